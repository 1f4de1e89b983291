"""The artifact that ships: an ONNX file converted from a scikit-learn pipeline by skl2onnx (its decisions
must equal the pipeline's on the hiring world's rows and twins), and a torch module (a small MLP with a
planted bias fails, the same MLP blind to sex passes)."""

import copy
import hashlib

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import fairprobe as fp

CATEGORIES = ["sex", "race", "degree"]
NUMBERS = ["years_experience", "skills_score"]
COLUMNS = CATEGORIES + NUMBERS


@pytest.fixture(scope="module")
def world():
    return fp.worlds.hiring(n=1500, seed=4, direct_bias=2.5)


@pytest.fixture(scope="module")
def pipeline(world):
    encode = ColumnTransformer([("groups", OneHotEncoder(handle_unknown="ignore"), CATEGORIES),
                                ("numbers", StandardScaler(), NUMBERS)])
    return make_pipeline(encode, LogisticRegression(max_iter=500)).fit(world.data[COLUMNS], world.data["hired"])


@pytest.fixture(scope="module")
def onnx_file(pipeline, tmp_path_factory):
    """The pipeline as skl2onnx converts a pipeline fitted on a DataFrame: one input per column."""
    pytest.importorskip("onnxruntime")
    skl2onnx = pytest.importorskip("skl2onnx")
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    types = [(c, StringTensorType([None, 1])) for c in CATEGORIES] + [(c, FloatTensorType([None, 1])) for c in NUMBERS]
    model = skl2onnx.convert_sklearn(pipeline, initial_types=types, options={"zipmap": False})
    path = tmp_path_factory.mktemp("onnx") / "screener.onnx"
    path.write_bytes(model.SerializeToString())
    return path


def test_onnx_decisions_equal_the_pipelines_on_rows_and_twins(onnx_file, pipeline, world):
    model = fp.adapters.ONNXModel(onnx_file)
    assert model.feature_names == COLUMNS and model.output == "probabilities"
    probe = fp.Probe(data=world.data, model=model, protected=["sex", "race"], label="hired")
    twins = probe.twins(["sex", "race"]).twins[COLUMNS]
    for rows in (world.data[COLUMNS], twins):
        answers = model.predict(rows)
        np.testing.assert_array_equal(answers.decision, pipeline.predict(rows) == 1)
        # onnxruntime computes in float32: scores agree to float32's precision, decisions exactly
        np.testing.assert_allclose(answers.score, pipeline.predict_proba(rows)[:, 1], atol=1e-5)
    assert len(twins) == 7 * len(world.data)


def test_a_probe_of_the_onnx_file_gives_the_pipelines_verdict(onnx_file, pipeline, world):
    onnx_result = fp.Probe(data=world.data, model=fp.adapters.ONNXModel(onnx_file), protected=["sex"],
                           label="hired", seed=0).invariance("sex", max_flip_rate=0.01)
    result = fp.Probe(data=world.data, model=pipeline, protected=["sex"], label="hired",
                      seed=0).invariance("sex", max_flip_rate=0.01)
    assert str(onnx_result.verdict) == str(result.verdict) == "fail"
    assert (onnx_result.statistic, onnx_result.interval, onnx_result.n) == (result.statistic, result.interval, result.n)
    model = onnx_result.context["model"]
    assert model["kind"] == "onnx-file" and model["sha256"] == hashlib.sha256(onnx_file.read_bytes()).hexdigest()
    assert "screener.onnx" in model["description"] and "skl2onnx" in model["description"]


def test_a_session_bytes_or_path_give_the_same_fingerprint(onnx_file):
    import onnxruntime as ort

    digest = hashlib.sha256(onnx_file.read_bytes()).hexdigest()
    for source in (onnx_file, str(onnx_file), onnx_file.read_bytes(),
                   ort.InferenceSession(str(onnx_file), providers=["CPUExecutionProvider"])):
        assert fp.adapters.ONNXModel(source).fingerprint()["sha256"] == digest


def test_zipmap_output_and_one_matrix_input(pipeline, world):
    pytest.importorskip("onnxruntime")
    skl2onnx = pytest.importorskip("skl2onnx")
    from skl2onnx.common.data_types import FloatTensorType

    X = world.data[NUMBERS].astype("float32")
    numeric = make_pipeline(StandardScaler(), LogisticRegression()).fit(X.to_numpy(), world.data["hired"])
    onx = skl2onnx.convert_sklearn(numeric, initial_types=[("X", FloatTensorType([None, 2]))]).SerializeToString()
    model = fp.adapters.ONNXModel(onx)  # one input: every column sent, as one matrix; ZipMap {class: p} output
    assert model.output == "output_probability" and model.feature_names is None
    np.testing.assert_allclose(model.predict(X).score, numeric.predict_proba(X.to_numpy())[:, 1], atol=1e-5)
    mapped = fp.adapters.ONNXModel(onx, inputs={"years_experience": "X", "skills_score": "X"}, output="output_label")
    assert mapped.feature_names == NUMBERS
    np.testing.assert_array_equal(mapped.predict(world.data[NUMBERS]).decision, numeric.predict(X.to_numpy()) == 1)
    with pytest.raises(fp.AdapterError, match=r"holds the classes 0, 1; pass positive_label="):
        fp.adapters.ONNXModel(onx, positive_label="yes").predict(X)


def test_onnx_errors_name_the_graphs_inputs_and_outputs(onnx_file, world, tmp_path):
    ONNXModel = fp.adapters.ONNXModel
    with pytest.raises(fp.InvalidSpec, match=r"has no output 'score'; its outputs are label, probabilities"):
        ONNXModel(onnx_file, output="score")
    with pytest.raises(fp.InvalidSpec, match=r"inputs= names gender, which the graph lacks; its inputs are sex, race"):
        ONNXModel(onnx_file, inputs={"sex": "gender"})
    with pytest.raises(fp.InvalidSpec, match=r"the graph's inputs race, degree, .* get no column"):
        ONNXModel(onnx_file, inputs={"sex": "sex"})
    with pytest.raises(fp.InvalidSpec, match=r"ONNX file not found: '.*missing.onnx'"):
        ONNXModel(tmp_path / "missing.onnx")
    (tmp_path / "broken.onnx").write_bytes(b"not a model")
    with pytest.raises(fp.AdapterError, match=r"onnxruntime could not load the model broken.onnx"):
        ONNXModel(tmp_path / "broken.onnx")
    swapped = world.data[COLUMNS].iloc[:5].assign(skills_score="high")
    with pytest.raises(fp.AdapterError, match=r"columns skills_score cannot feed the graph's input 'skills_score'"):
        ONNXModel(onnx_file).predict(swapped)


# ---------------------------------------------------------------------------------------------- torch


def features(frame):
    """The MLP's input: standardized skills and experience, and sex as 0/1."""
    import torch

    x = np.c_[(frame["skills_score"] - 50) / 10, (frame["years_experience"] - 5) / 3, frame["sex"] == "male"]
    return torch.as_tensor(x.astype(np.float32))


@pytest.fixture(scope="module")
def mlps(world):
    """An MLP trained on labels that favour men (planted), and a copy blind to sex (placebo)."""
    torch = pytest.importorskip("torch")
    generator = torch.Generator().manual_seed(0)
    x = features(world.data)  # (n, 3)
    y = ((x[:, 0] + x[:, 1] + 2.0 * x[:, 2] - 1.0 + 0.3 * torch.randn(len(x), generator=generator)) > 0).float()
    torch.manual_seed(0)  # nn.Linear draws its initial weights from the global generator
    biased = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    optimizer = torch.optim.Adam(biased.parameters(), lr=0.05)
    for _ in range(200):
        optimizer.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(biased(x)[:, 0], y)
        loss.backward()
        optimizer.step()
    placebo = copy.deepcopy(biased)
    with torch.no_grad():
        placebo[0].weight[:, 2] = 0.0  # sex no longer reaches the network
    return biased, placebo


def test_torch_planted_bias_fails_and_the_placebo_passes(mlps, world):
    biased, placebo = mlps
    verdicts = {}
    for name, module in (("biased", biased), ("placebo", placebo)):
        model = fp.adapters.TorchModel(module, preprocess=features, columns=["sex", "years_experience", "skills_score"])
        probe = fp.Probe(data=world.data, model=model, protected=["sex"], label="hired", seed=0)
        verdicts[name] = probe.invariance("sex", max_flip_rate=0.01)
    assert str(verdicts["biased"].verdict) == "fail" and verdicts["biased"].statistic > 0.1
    assert str(verdicts["placebo"].verdict) == "pass" and verdicts["placebo"].statistic == 0.0
    fingerprints = [v.context["model"] for v in verdicts.values()]
    assert fingerprints[0]["kind"] == "torch-state-dict" and fingerprints[0]["sha256"] != fingerprints[1]["sha256"]
    assert fingerprints[0]["preprocess_sha256"] == fingerprints[1]["preprocess_sha256"]


def test_torch_fingerprint_is_the_state_dict(mlps):
    import torch

    biased, _ = mlps
    twin = copy.deepcopy(biased)
    digest = fp.adapters.TorchModel(biased).fingerprint()["sha256"]
    assert fp.adapters.TorchModel(twin).fingerprint()["sha256"] == digest
    with torch.no_grad():
        twin[2].bias += 1e-6
    assert fp.adapters.TorchModel(twin).fingerprint()["sha256"] != digest
    half = copy.deepcopy(biased).to(torch.bfloat16)
    assert len(fp.adapters.TorchModel(half).fingerprint()["sha256"]) == 64


def test_torch_runs_batched_in_inference_mode_and_restores_the_mode():
    torch = pytest.importorskip("torch")

    class Spy(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear, self.seen = torch.nn.Linear(2, 2), []

        def forward(self, x):
            self.seen.append((len(x), torch.is_inference_mode_enabled(), self.training))
            return self.linear(x)  # two logits: the softmax's column 1 is the score

    spy = Spy().train()
    frame = pd.DataFrame({"a": np.linspace(-1, 1, 200), "b": np.linspace(1, -1, 200)})
    model = fp.adapters.TorchModel(spy, batch_size=64)
    answers = model.predict(frame)
    assert [n for n, _, _ in spy.seen] == [64, 64, 64, 8] and model.calls == 4
    assert all(inference and not training for _, inference, training in spy.seen) and spy.training
    with torch.no_grad():
        expected = torch.softmax(spy.linear(torch.tensor(frame.to_numpy(), dtype=torch.float32)), dim=1)[:, 1]
    np.testing.assert_allclose(answers.score, expected.numpy(), atol=1e-6)
    as_probability = fp.adapters.TorchModel(torch.nn.Sequential(spy.linear, torch.nn.Softmax(dim=1)),
                                            output="probability", positive_index=0).predict(frame)
    np.testing.assert_allclose(as_probability.score, 1 - expected.numpy(), atol=1e-6)
    custom = fp.adapters.TorchModel(spy.linear, output=lambda out: out[:, 1] - out[:, 0], threshold=0.0).predict(frame)
    np.testing.assert_array_equal(custom.decision, expected.numpy() >= 0.5)


def test_torch_options_are_checked():
    torch = pytest.importorskip("torch")
    TorchModel = fp.adapters.TorchModel
    with pytest.raises(fp.InvalidSpec, match=r"module must be a torch.nn.Module; got function"):
        TorchModel(lambda x: x)
    with pytest.raises(fp.InvalidSpec, match=r"unknown output 'logit'; did you mean 'logits'"):
        TorchModel(torch.nn.Linear(1, 1), output="logit")
    with pytest.raises(fp.InvalidSpec, match=r"device 'gpu0' is not a torch device"):
        TorchModel(torch.nn.Linear(1, 1), device="gpu0")
    with pytest.raises(fp.InvalidSpec, match=r"sex are not numeric; pass preprocess="):
        TorchModel(torch.nn.Linear(2, 1)).predict(pd.DataFrame({"x": [1.0], "sex": ["male"]}))
    with pytest.raises(fp.AdapterError, match=r"positive_index=3 but Linear returns 2 columns"):
        TorchModel(torch.nn.Linear(1, 2), positive_index=3).predict(pd.DataFrame({"x": [1.0]}))
