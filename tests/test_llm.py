"""The OpenAI-compatible backend against a real HTTP server on 127.0.0.1, LLM rewriting and LLM screeners.

The server is started by the tests and speaks the chat-completions protocol; a "faithful" model
is simulated by answering with the rule-based rewrite of the profile named in the prompt, a
"careless" one by dropping a sentence. Faults (timeouts, 500, 429, malformed JSON) are injected
per request.
"""

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

import fairprobe as fp
from fairprobe.adapters import LLMDecisionAdapter
from fairprobe.llm import OpenAIChat
from fairprobe.twins.text import (
    PROMPTS,
    LLMRewriter,
    Person,
    Rewriter,
    TextTwinGenerator,
)


def faithful(payload):
    """A model that does what the prompt asks: the rule-based rewrite of the text it was given."""
    user = payload["messages"][-1]["content"]
    new_name, old_name = re.search(r"about (.+?) instead of (.+?)\. Use", user).group(1, 2)
    new_sex = "female" if "Use she /" in user else "male"
    text = user.split("Profile:\n", 1)[1] if "Profile:\n" in user else user.split("Sentence: ", 1)[1]
    old_sex = "female" if re.search(r"\b(she|her|hers|herself)\b", text, re.IGNORECASE) else \
        "male" if re.search(r"\b(he|him|his|himself)\b", text, re.IGNORECASE) else new_sex
    old = Person(*old_name.split(" ", 1), old_sex, "x")
    return Rewriter().rewrite(text, old, Person(*new_name.split(" ", 1), new_sex, "x"))


class Server:
    """A chat-completions server on 127.0.0.1 (an ephemeral port), with faults scripted per request."""

    def __init__(self, respond=faithful):
        self.respond, self.script, self.requests, self.headers = respond, [], [], []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append(payload)
                server.headers.append(dict(self.headers))
                fault = server.script.pop(0) if server.script else "ok"
                if fault == "timeout":
                    time.sleep(2.5)  # beyond the client's 2 s timeout
                    fault = "ok"
                if fault in ("500", "429", "404"):
                    self.send_response(int(fault))
                    if fault == "429":
                        self.send_header("Retry-After", "0")
                    self.end_headers()
                    return
                if fault == "malformed":
                    body = b'{"choices": [ not json'
                else:
                    reply = {"choices": [{"message": {"role": "assistant", "content": server.respond(payload)}}]}
                    if payload.get("logprobs"):
                        reply["choices"][0]["logprobs"] = {"content": [{"token": "x", "logprob": 0.0,
                                                                        "top_logprobs": server.respond(payload)}]}
                        reply["choices"][0]["message"]["content"] = "yes"
                    body = json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = Server()
    yield s
    s.close()


@pytest.fixture(scope="module")
def profiles():
    world = fp.worlds.hiring(n=12, seed=5)
    return world.data.assign(profile=world.profiles())


def backend(server, **kw):
    # 2 s leaves a loaded CI machine room to answer a good request in time: only injected faults retry.
    return OpenAIChat(server.url, "smollm2-test", timeout=2.0, backoff=0.01, **kw)


def test_faults_are_retried_and_no_twin_is_lost_or_counted_twice(server, profiles):
    server.script = ["500", "429", "malformed", "timeout"]
    rewriter = LLMRewriter(backend(server, retries=4))
    twins = TextTwinGenerator("profile", rewriter=rewriter).generate(profiles, ["sex"], seed=0)
    assert len(twins) == len(profiles) and twins.valid.all()
    assert rewriter.stats["accepted"] == len(profiles) and rewriter.stats["fell back to rules"] == 0
    assert rewriter.backend.usage.retries == 4 and rewriter.backend.usage.failures == 0
    # one request per twin plus one per injected fault (the timed-out one reached the server too)
    assert len(server.requests) == len(profiles) + 4
    assert twins.info["rewriter"]["stats"]["model calls"] == len(profiles)
    assert twins.generator == "llm"


def test_a_client_error_fails_at_once_with_a_clear_message(server):
    server.script = ["404"]
    with pytest.raises(fp.AdapterError, match=r"answered HTTP 404 .* for model 'smollm2-test'; check the model name"):
        backend(server).chat([{"role": "user", "content": "hi"}])
    assert len(server.requests) == 1


def test_a_server_that_keeps_failing_gives_up_after_the_retries(server):
    server.script = ["500"] * 3
    with pytest.raises(fp.AdapterError, match=r"failed 3 times for model 'smollm2-test'; last: HTTP 500"):
        backend(server, retries=2).chat([{"role": "user", "content": "hi"}])


def test_api_key_is_sent_from_the_environment_and_never_recorded(server, monkeypatch):
    monkeypatch.setenv("FAIRPROBE_TEST_KEY", "sk-secret-123")
    chat = OpenAIChat(server.url, "m", api_key_env="FAIRPROBE_TEST_KEY")
    chat.chat([{"role": "user", "content": "Sentence: Emily codes. about Greg Baker instead of Emily Walsh. Use he"}])
    assert server.headers[-1]["Authorization"] == "Bearer sk-secret-123"
    rewriter = LLMRewriter(chat)
    assert "sk-secret" not in json.dumps(rewriter.describe())


def test_chat_many_keeps_the_order(server):
    server.respond = lambda payload: payload["messages"][-1]["content"].upper()
    out = backend(server, max_concurrency=3).chat_many([[{"role": "user", "content": f"m{i}"}] for i in range(9)])
    assert out == [f"M{i}" for i in range(9)]


def test_rejected_answers_are_retried_then_replaced_by_the_rule_based_twin(server, profiles):
    server.respond = lambda payload: ". ".join(faithful(payload).split(". ")[:-1])  # drops a sentence
    rewriter = LLMRewriter(backend(server), retries=1)
    twins = TextTwinGenerator("profile", rewriter=rewriter).generate(profiles, ["sex"], seed=0)
    assert twins.valid.all()  # every twin is the rules' fallback, which validates
    assert rewriter.stats["fell back to rules"] == len(profiles)
    assert rewriter.stats["retried"] == len(profiles) and rewriter.stats["accepted"] == 0
    # both tries of every profile were rejected, and the evidence says why
    assert rewriter.stats["rejected: edits beyond protected signals"] == 2 * len(profiles)
    assert rewriter.stats["rejected: length changed"] == 2 * len(profiles)


def test_sentence_mode_and_the_replay_cache(server, profiles, tmp_path):
    first = LLMRewriter(backend(server), mode="sentence", cache_dir=str(tmp_path))
    twins = TextTwinGenerator("profile", rewriter=first).generate(profiles, ["sex", "race"], seed=0)
    calls = first.stats["model calls"]
    assert calls > len(twins) and twins.valid.all()
    server.close()  # no model at all: the cache must answer everything
    replay = LLMRewriter(OpenAIChat(server.url, "smollm2-test", timeout=0.2, retries=0), mode="sentence",
                         cache_dir=str(tmp_path))
    again = TextTwinGenerator("profile", rewriter=replay).generate(profiles, ["sex", "race"], seed=0)
    assert replay.stats["model calls"] == 0 and replay.stats["replayed from cache"] == calls
    assert again.twins["profile"].tolist() == twins.twins["profile"].tolist()
    assert replay.describe()["prompts"]["user"] == PROMPTS["sentence"]


def test_llm_screener_scores_from_logprobs_and_is_caught(server, profiles):
    def logprobs(payload):
        text = payload["messages"][-1]["content"]
        p_yes = 0.7 if re.search(r"\bHe\b", text) else 0.3
        return [{"token": "yes", "logprob": float(np.log(p_yes))}, {"token": " no", "logprob": float(np.log(1 - p_yes))}]

    server.respond = logprobs
    screener = LLMDecisionAdapter(backend(server), "Profile: {text}\nShould we invite this candidate? Answer yes or no.")
    probe = fp.Probe(data=profiles, model=screener, protected=["sex"], text="profile", twins="rewrite")
    result = probe.invariance("sex", max_flip_rate=0.05)
    assert screener.methods == {"logprobs": 2 * len(profiles), "sampled": 0}
    assert result.statistic == 1.0 and result.verdict == "fail"
    assert result.details["score_change"]["max_abs"] == pytest.approx(0.4)
    assert result.context["model"]["kind"] == "llm-decision"


def test_llm_screener_falls_back_to_sampled_answers(server, profiles):
    server.respond = lambda payload: "Yes." if payload.get("seed", 0) % 2 == 0 else "No"
    chat = backend(server)
    chat.token_logprobs = lambda messages, top=20: None  # a server that gives no log-probabilities
    screener = LLMDecisionAdapter(chat, "{text} Invite? Answer yes or no.", samples=4)
    out = screener.predict(profiles[["profile"]].iloc[:3])
    assert out.score.tolist() == [0.5, 0.5, 0.5] and screener.methods["sampled"] == 3


def test_the_generator_sends_requests_concurrently_up_to_the_bound(server, profiles, in_flight):
    slow = in_flight(faithful, together=3)  # the first three requests meet at a barrier: no timing assumed
    server.respond = slow
    rewriter = LLMRewriter(backend(server, max_concurrency=3))
    twins = TextTwinGenerator("profile", rewriter=rewriter).generate(profiles, ["sex"], seed=0)
    assert twins.valid.all() and rewriter.stats["accepted"] == len(profiles)
    assert slow.most == 3
