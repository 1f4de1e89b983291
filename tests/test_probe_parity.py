"""The in-memory and the partitioned probe do what a probe does in one place (base_probe), so neither skips a check
the other makes (issue #21, section 5)."""

from __future__ import annotations

import inspect
import json
import warnings

import numpy as np
import pandas as pd
import pytest

import fairprobe as fp
from fairprobe.errors import InvalidSpec

ENGINES = [pytest.param({}, id="memory"), pytest.param({"engine": "local", "partition_rows": 200}, id="partitioned")]


def _skills(df: pd.DataFrame) -> np.ndarray:
    return (df["skills_score"] > 50).to_numpy()


@pytest.mark.parametrize("engine", ENGINES)
def test_a_column_of_lists_the_model_reads_is_refused_by_name(engine):
    # The lists sit in the second partition only: a partitioned probe reads the first at construction and the
    # others during the check's pass, where it once raised a bare TypeError (unhashable type: 'list').
    data = fp.worlds.hiring(n=400, seed=1).data
    data["tags"] = pd.Series([None] * 200 + [["python", "sql"]] * 200, dtype=object)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fp.FairprobeWarning)
        with pytest.raises(InvalidSpec, match=r"column 'tags' holds list values in 200 rows .* one scalar per cell"):
            probe = fp.Probe(data=data, model=_skills, protected="sex", label="hired",
                             features=["sex", "skills_score", "tags"], **engine)
            probe.invariance("sex", max_flip_rate=0.05)


@pytest.mark.parametrize("engine", ENGINES)
def test_flip_twins_say_which_columns_going_with_the_attribute_they_left_alone(engine):
    # hobby and career_gap go with sex in the hiring world (AUC about 0.7) without encoding it: flip twins keep
    # them, and an invariance result says so, whichever probe ran it.
    data = fp.worlds.hiring(n=400, seed=1).data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fp.FairprobeWarning)
        probe = fp.Probe(data=data, model=_skills, protected="sex", label="hired", **engine)
        result = probe.invariance("sex", max_flip_rate=0.05)
    notes = result.details.get("notes") or []
    assert any(n.startswith("flip twins test direct use of sex only") and "hobby (AUC " in n
               for n in notes), notes
    # first_name encodes sex (AUC 1.00) and the twins keep it: the proxy warning rides on the result too
    assert any("first_name" in w for w in probe.proxy_warnings["sex"])
    assert set(probe.proxy_warnings["sex"]) <= set(result.warnings)


# ---------------------------------------------------------------------------------------------- one set of settings


def _keywords(function) -> list[str]:
    return [n for n, p in inspect.signature(function).parameters.items() if p.kind is p.KEYWORD_ONLY]


def test_the_settings_are_named_once_and_every_entry_point_reads_that_list():
    from fairprobe import spec, yaml_probes
    from fairprobe.partitioned import PartitionedProbe

    assert _keywords(fp.Probe.__init__) == list(spec.PROBE_SETTINGS)  # the typed signature users read
    assert set(_keywords(spec.ProbeSpec.build)) == set(spec.SPEC_SETTINGS)
    assert _keywords(PartitionedProbe.__init__) == ["engine", *spec.PARTITION_SETTINGS]  # and **settings
    assert yaml_probes.PROBE_KEYS - {"data", "model", "trust", "checks"} == \
        {*spec.PROBE_SETTINGS, *spec.PARTITION_SETTINGS}


@pytest.mark.parametrize("engine", ENGINES)
def test_a_misspelled_setting_is_named_with_the_closest(engine):
    data = fp.worlds.hiring(n=400, seed=1).data
    with pytest.raises(InvalidSpec, match=r"Probe has no setting 'hold'; did you mean 'held'\?"):
        fp.Probe(data=data, model=_skills, protected="sex", hold=["skills_score"], **engine)


def test_partition_settings_without_an_engine_are_refused():
    data = fp.worlds.hiring(n=400, seed=1).data
    with pytest.raises(InvalidSpec, match=r"partition_rows= is a setting of a probe over partitions .* engine='local'"):
        fp.Probe(data=data, model=_skills, protected="sex", partition_rows=100)


@pytest.mark.parametrize("setting", ["causes", "max_records", "text", "bands", "redact"])
def test_a_partitioned_probe_refuses_by_name_what_it_cannot_do_yet(setting):
    data = fp.worlds.hiring(n=400, seed=1).data
    with pytest.raises(InvalidSpec, match=rf"does not take \['{setting}'\] yet; use an in-memory Probe"):
        fp.Probe(data=data, model=_skills, protected="sex", engine="local", **{setting: "x"})


def test_every_setting_a_partitioned_probe_takes_reaches_it_as_in_memory():
    data = fp.worlds.hiring(n=400, seed=1).data
    settings = dict(protected=["sex"], label="hired", held=["years_experience"], features=["sex", "skills_score"],
                    seed=7, alpha=0.1, mode="certify", min_group_size=30, name="screener", threshold=0.3,
                    label_positive=1, model_positive=True, model_version="2.1", twins="flip",
                    derived={"senior": lambda df: df["years_experience"] > 5})
    data["senior"] = data["years_experience"] > 5
    scores = lambda df: df["skills_score"].to_numpy() / 100  # noqa: E731
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fp.FairprobeWarning)
        memory = fp.Probe(data=data, model=scores, **settings)
        parted = fp.Probe(data=data, model=scores, engine="local", partition_rows=200, **settings)

    def seen(probe):
        s = probe.spec
        return (s.protected, s.label, s.held, s.features, s.seed, s.alpha, s.mode, s.min_group_size, s.name,
                s.label_positive, s.model_positive, s.twins.name, sorted(s.derived), probe.adapter.decision_threshold,
                probe.model_version)

    assert seen(parted) == seen(memory)
    assert seen(memory)[4:9] == (7, 0.1, "certify", 30, "screener")
    assert seen(memory)[-2:] == (0.3, "2.1")


YAML_PROBE = '''name: hiring screener
data: {world: hiring, n: 1000, seed: 2}
model: screeners:fair
protected: sex
label: hired
features: [sex, skills_score]
model_version: "2.1"
redact: [first_name]
engine: local
partition_rows: 500
checks:
  - invariance: sex
    max_flip_rate: 0.05
'''


def test_a_yaml_probe_has_a_key_for_every_setting(pytester: pytest.Pytester):
    # model_version, redact and engine were Probe settings a probe file could not give ("unknown setting")
    pytester.makepyfile(screeners="def fair(df):\n    return (df['skills_score'] > 50).to_numpy()\n")
    (pytester.path / "probe_screener.yaml").write_text(YAML_PROBE.replace("redact: [first_name]\n", ""))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    folder = pytester.path / "reports"
    check = json.loads((folder / (folder / "LATEST").read_text().strip() / "evidence.json").read_text())["checks"][0]
    assert (check["context"]["model_version"], check["context"]["engine"], check["context"]["partitions"]) == \
        ("2.1", "local", 2)
    # redact= reaches the probe too: a partitioned probe refuses it by name, as in Python
    (pytester.path / "probe_screener.yaml").write_text(YAML_PROBE)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--fairprobe-no-evidence")
    result.stdout.fnmatch_lines(["*probe_screener.yaml:*does not take ?'redact'? yet*"])


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("check", ["demographic_parity", "equalized_odds"])
def test_a_group_check_whose_threshold_is_above_every_score_says_so(engine, check):
    # scores 0.0-0.99 against a threshold of 1.5: every decision unfavourable, and the warning says why
    data = fp.worlds.hiring(n=400, seed=1).data
    scores = lambda df: df["skills_score"].to_numpy() / 101  # noqa: E731
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fp.FairprobeWarning)
        probe = fp.Probe(data=data, model=scores, protected="sex", label="hired", features=["sex", "skills_score"],
                         threshold=1.5, **engine)
        result = getattr(probe, check)("sex", max_gap=0.1)
    assert any(w.startswith("degenerate: every decision is unfavourable (the threshold 1.5 is above every score "
                            "the model returned") for w in result.warnings), result.warnings
