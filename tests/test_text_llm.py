"""LLM edit mode: the model returns a JSON list of edits that the harness applies to the original; tested
against the local chat-completions server of test_llm.py (faults injected per request)."""

import difflib
import json
import re

import pytest

import fairprobe as fp
from fairprobe.llm import OpenAIChat
from fairprobe.twins.text import LLMRewriter, Person, Rewriter, TextTwinGenerator, parse_edits
from test_llm import Server


def _request(payload):
    user = payload["messages"][-1]["content"]
    old_name, new_name = re.search(r"is about (.+?), .*? We need the same profile about (.+?), ", user).group(1, 2)
    new_sex = "female" if "(she /" in user else "male"
    text = user.rsplit("Profile: ", 1)[1].rsplit("\nEdits:", 1)[0]
    return text, Person(*old_name.split(" ", 1), "female" if new_sex == "male" else "male", "x"), \
        Person(*new_name.split(" ", 1), new_sex, "x")


def faithful_edits(payload, extra=()):
    """A model that lists the rules' edits, word by word, in order (and any ``extra`` edits)."""
    text, old, new = _request(payload)
    twin = Rewriter().rewrite(text, old, new)
    a, b = re.findall(r"\w[\w'’]*", text), re.findall(r"\w[\w'’]*", twin)
    edits = []
    for op, a0, a1, b0, b1 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "replace" and a1 - a0 == b1 - b0:
            edits += [{"span": x, "replacement": y, "reason": "signal"} for x, y in zip(a[a0:a1], b[b0:b1])]
    return "Here are the edits:\n" + json.dumps(edits + list(extra))


@pytest.fixture
def server():
    s = Server(respond=faithful_edits)
    yield s
    s.close()


@pytest.fixture(scope="module")
def profiles():
    world = fp.worlds.hiring(n=10, seed=5)
    return world.data.assign(profile=world.profiles())


def backend(server, **kw):
    return OpenAIChat(server.url, "edit-test", timeout=2.0, backoff=0.01, **kw)


def test_edits_are_applied_to_the_original_and_validated(server, profiles):
    server.script = ["500", "malformed"]
    rewriter = LLMRewriter(backend(server, retries=3), mode="edit")
    twins = TextTwinGenerator("profile", rewriter=rewriter).generate(profiles, ["sex"], seed=0)
    assert twins.valid.all() and rewriter.stats["accepted"] == len(profiles)
    assert rewriter.stats["fell back to rules"] == 0 and rewriter.stats["edits applied"] > 4 * len(profiles)
    assert rewriter.backend.usage.retries == 2
    rules = TextTwinGenerator("profile").generate(profiles, ["sex"], seed=0)
    assert twins.twins["profile"].tolist() == rules.twins["profile"].tolist()
    assert "JSON list" in rewriter.describe()["prompts"]["user"]


def test_an_edit_that_would_drop_or_change_a_fact_is_refused_and_one_outside_the_lexicon_is_reported(server,
                                                                                                     profiles):
    extra = [{"span": "software developer", "replacement": "nurse", "reason": "job"},
             {"span": "years of experience", "replacement": "", "reason": "drop it"},
             {"span": "scored", "replacement": "got 99 on", "reason": "number"},
             {"span": "yoga", "replacement": "football", "reason": "hobby read as feminine"}]
    server.respond = lambda payload: faithful_edits(payload, extra)
    rewriter = LLMRewriter(backend(server), mode="edit")
    twins = TextTwinGenerator("profile", rewriter=rewriter).generate(profiles, ["sex"], seed=0)
    assert twins.valid.all() and rewriter.stats["fell back to rules"] == 0
    for j, i in enumerate(twins.source):  # every fact stated as in the original
        assert re.findall(r"\d+(?:\.\d+)?", twins.twins["profile"][j]) == re.findall(r"\d+(?:\.\d+)?",
                                                                                     profiles["profile"][i])
        assert "software developer with" in twins.twins["profile"][j]
    assert rewriter.stats["edits refused: touches a number"] == len(profiles)
    assert rewriter.stats["edits refused: outside the lexicon (reported)"] >= 2 * len(profiles)
    unlisted = rewriter.describe()["unlisted_signals"]
    assert unlisted["software developer"] == len(profiles) and "yoga" in unlisted


def test_an_answer_without_a_json_list_falls_back_to_the_rules(server, profiles):
    server.respond = lambda payload: "I cannot do that."
    rewriter = LLMRewriter(backend(server), mode="edit", retries=1)
    twins = TextTwinGenerator("profile", rewriter=rewriter).generate(profiles, ["sex"], seed=0)
    assert twins.valid.all() and rewriter.stats["fell back to rules"] == len(profiles)
    assert rewriter.stats["rejected: no JSON list of edits"] == 2 * len(profiles)


def test_an_edit_list_that_misses_a_pronoun_is_rejected(server, profiles):
    def lazy(payload):
        edits = json.loads(faithful_edits(payload).split("\n", 1)[1])
        return json.dumps([e for e in edits if e["span"].lower() not in ("she", "he")])

    server.respond = lazy
    rewriter = LLMRewriter(backend(server), mode="edit", retries=0)
    TextTwinGenerator("profile", rewriter=rewriter).generate(profiles, ["sex"], seed=0)
    assert rewriter.stats["rejected: pronouns of the old sex remain"] == len(profiles)
    assert rewriter.stats["accepted"] == 0


def test_parse_edits_takes_the_first_list_of_edit_objects():
    assert parse_edits('[1, 2] then [{"span": "she", "replacement": "he"}]') == [
        {"span": "she", "replacement": "he", "reason": ""}]
    assert parse_edits("no list here") is None
    assert parse_edits('[{"span": "she"}]') is None


def test_prefill_starts_the_answer_and_is_put_back_before_parsing(server, profiles):
    def continues(payload):
        assert payload["messages"][-1] == {"role": "assistant", "content": '[{"span": "'}
        payload = {**payload, "messages": payload["messages"][:-1]}
        return faithful_edits(payload).split("\n", 1)[1][len('[{"span": "'):]

    server.respond = continues
    rewriter = LLMRewriter(backend(server), mode="edit", prefill=True)
    twins = TextTwinGenerator("profile", rewriter=rewriter).generate(profiles, ["sex"], seed=0)
    assert twins.valid.all() and rewriter.stats["accepted"] == len(profiles)


def test_a_base_model_reads_plain_text_and_continues_a_prefill(tmp_path):
    from fairprobe.llm import TransformersChat

    class NoTemplate:
        chat_template = None

    chat = TransformersChat(str(tmp_path), plain=True)
    messages = [{"role": "system", "content": "S"}, {"role": "user", "content": "U Edits:"}]
    assert chat._prompt(NoTemplate(), messages) == "S\n\nU Edits:\n"
    assert chat._prompt(NoTemplate(), messages + [{"role": "assistant", "content": "[{"}]) == "S\n\nU Edits: [{"
    assert chat.describe()["prompting"] == "plain text"
