"""Secrets and personal data (issue #17): command-line secrets masked by one rule, credentials kept out of what
pytest prints, redaction that covers every place a value is shown."""

import importlib.util
import json
import socket
from pathlib import Path

import pytest

import fairprobe as fp
from fairprobe.redact import Secret, mask_command, mask_secrets, secret_name

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_secrets.py"
_spec = importlib.util.spec_from_file_location("bench_secrets", BENCH)
bench_secrets = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_secrets)


@pytest.fixture(scope="module")
def result():
    world = fp.worlds.hiring(n=300, seed=1)
    probe = fp.Probe(data=world.data, model=lambda df: (df["sex"] == "male").to_numpy(), protected="sex",
                     label="hired", features=["sex", "skills_score"])
    return probe.invariance("sex", max_flip_rate=0.05)


# --------------------------------------------------------------------------- the command line


@pytest.mark.parametrize("shape,argv,secret", bench_secrets.SHAPES, ids=[s[0] for s in bench_secrets.SHAPES])
def test_every_secret_shape_is_masked_in_every_file_of_the_bundle(shape, argv, secret, result, tmp_path):
    evidence = fp.Evidence(command=["pytest", "probes", *argv])
    evidence.add(result)
    bundle = evidence.write(tmp_path)
    leaked = [p.name for p in bundle.iterdir() if secret.encode() in p.read_bytes()]
    assert not leaked, (shape, leaked)
    recorded = json.loads((bundle / "evidence.json").read_text())["command"]
    assert "[masked]" in " ".join(recorded), recorded


@pytest.mark.parametrize("argv,expected", [
    # the audit's seven shapes that reached evidence.json and report.html, exactly as they are recorded now
    (["--db-pass", "x1"], ["--db-pass", "[masked]"]),
    (["--pwd", "x2"], ["--pwd", "[masked]"]),
    (["--passphrase=x3"], ["--passphrase=[masked]"]),
    (["--client-cred", "x4"], ["--client-cred", "[masked]"]),
    (["-o", "db_pass=x5"], ["-o", "db_pass=[masked]"]),
    (["--url=https://h.example/v1?access_token=x6&model=m"], ["--url=https://h.example/v1?access_token=[masked]&model=m"]),
    (["-H", "X-API-Key: x7"], ["-H", "X-API-Key: [masked]"]),
    # a header's value is masked whatever the header; the auth scheme is kept
    (["--header", "X-Trace: x8"], ["--header", "X-Trace: [masked]"]),
    (["-H", "Authorization: Basic x9"], ["-H", "Authorization: Basic [masked]"]),
    (["Cookie: sid=x10"], ["Cookie: [masked]"]),
    (["--repo=https://x11@git.example/r"], ["--repo=https://[masked]@git.example/r"]),
    (["--config", '{"client_secret": "x12"}'], ["--config", '{"client_secret": "[masked]"}']),
])
def test_the_rule_masks_values_and_keeps_names(argv, expected):
    assert mask_command(argv) == expected


def test_what_is_no_secret_is_kept_as_given():
    argv = ["pytest", "probes", "-k", "sex and not slow", "-p", "no:cacheprovider", "--fairprobe-seed=3", "-n", "2",
            "tests/test_keys.py::test_a", "--junitxml=reports/junit.xml", "-o", "log_cli=true",
            "--url=https://h.example/score?model=a&region=eu", "-W", "ignore::DeprecationWarning",
            "--fairprobe-redact", "first_name,last_name", "--fairprobe-mode=certify"]
    assert mask_command(argv) == argv


def test_the_secret_words_are_the_stated_ones():
    assert fp.redact.SECRET_WORDS == ("pass", "pwd", "secret", "token", "key", "cred", "auth")
    assert [secret_name(n) for n in ("PASSPHRASE", "my-pwd", "x_secret_y", "tokens", "monkey", "client_cred",
                                     "author", "seed", "name", "url")] == [True] * 7 + [False] * 3


def test_model_descriptions_are_masked_by_the_same_rule():
    assert mask_secrets("served at https://u:p4ss@h/x?api_key=k3y&m=1") == "served at https://[masked]@h/x?api_key=[masked]&m=1"


# --------------------------------------------------------------------------- what pytest prints


def test_a_secret_prints_masked_everywhere():
    assert fp.Secret is Secret
    secret = Secret("hunter2-Zq")
    assert "hunter2" not in repr(secret) + str(secret) + f"{secret!r} {secret}" + repr([secret]) + repr({"k": secret})
    assert secret.reveal() == "hunter2-Zq" and secret == Secret("hunter2-Zq")
    import pickle

    assert pickle.loads(pickle.dumps(secret)).reveal() == "hunter2-Zq"


def test_an_endpoint_takes_its_url_as_a_secret():
    pytest.importorskip("httpx")
    from fairprobe.adapters import KServeV2, MLflowEndpoint

    for adapter in (MLflowEndpoint(fp.Secret("http://ann:pw-Zq@127.0.0.1:9/invocations?api_key=k-Zq"), retries=0),
                    KServeV2(fp.Secret("http://ann:pw-Zq@127.0.0.1:9"), model="m", retries=0)):
        assert "Zq" not in repr(adapter) + adapter.url + json.dumps(adapter.identity())
        assert adapter._url.startswith("http://ann:pw-Zq@127.0.0.1:9")  # what is sent keeps the credentials
    with pytest.raises(fp.InvalidSpec, match=r"url must be an http:// or https:// address with a host; got "
                                              r"'ftp://\[masked\]@h'"):
        MLflowEndpoint(fp.Secret("ftp://ann:pw-Zq@h"))


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


FAILING_ENDPOINTS = '''
import os
import fairprobe as fp

world = fp.worlds.hiring(n=60, seed=1)

def test_url_with_credentials():
    fp.Probe(data=world.data, model=fp.adapters.MLflowEndpoint(os.environ["FP_MODEL_URL"], retries=1, backoff=0.01),
             protected="sex", label="hired", features=["sex", "skills_score"]).invariance("sex", max_flip_rate=0.05)

def test_token_from_the_environment():
    adapter = fp.adapters.KServeV2(os.environ["FP_PLAIN_URL"], model="m", token_env="FP_TOKEN", retries=1,
                                   backoff=0.01, columns=["sex", "skills_score"])
    fp.Probe(data=world.data, model=adapter, protected="sex", label="hired").invariance("sex", max_flip_rate=0.05)

def test_language_model_key():
    from fairprobe.llm import OpenAIChat

    chat = OpenAIChat(os.environ["FP_LLM_URL"], "m", api_key_env="FP_LLM_KEY", retries=1, backoff=0.01)
    chat.chat([{"role": "user", "content": "hello"}])
'''


@pytest.mark.parametrize("options", [["-l"], ["--tb=long", "-l"], ["--tb=short"]], ids=["l", "long-l", "short"])
def test_endpoint_credentials_reach_neither_the_terminal_nor_the_junit_xml(pytester, monkeypatch, options):
    pytest.importorskip("httpx")
    port = _dead_port()
    monkeypatch.setenv("FP_MODEL_URL", f"http://ann:pw-Zq81mXv@127.0.0.1:{port}/invocations?api_key=qk-Zq81mXv")
    monkeypatch.setenv("FP_PLAIN_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("FP_TOKEN", "tok-Zq81mXv")
    monkeypatch.setenv("FP_LLM_URL", f"http://bob:lpw-Zq81mXv@127.0.0.1:{port}/v1")
    monkeypatch.setenv("FP_LLM_KEY", "sk-Zq81mXvLLMkey")
    pytester.makepyfile(test_endpoints=FAILING_ENDPOINTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--junitxml=junit.xml", "--fairprobe-no-evidence",
                                           *options)
    result.assert_outcomes(failed=3)
    shown = result.stdout.str() + result.stderr.str() + (pytester.path / "junit.xml").read_text()
    assert "AdapterError" in shown and "127.0.0.1" in shown  # the failures are there, only the secrets are not
    assert "Zq81mXv" not in shown, [line for line in shown.splitlines() if "Zq81mXv" in line][:5]


# --------------------------------------------------------------------------- redaction


def test_a_surname_next_to_a_masked_name_is_masked_even_outside_the_lexicon():
    from fairprobe.redact import mask_text

    text = "Emily Zbrzezny-Kowalczyk and Mr. Greg O'Brien-Tate met Lakisha Jane Nwankwo-Ode on Monday."
    masked = mask_text(text, key=b"k" * 16)
    for part in ("Emily", "Zbrzezny", "Kowalczyk", "Greg", "O'Brien", "Tate", "Lakisha", "Jane", "Nwankwo", "Ode"):
        assert part not in masked, (part, masked)
    assert masked.startswith("[name:") and " and Mr. [name:" in masked and masked.endswith(" on Monday.")


def test_rows_named_by_an_index_are_hashed_when_the_redaction_names_the_index(tmp_path):
    world = fp.worlds.hiring(n=400, seed=2)
    data = world.data.set_index(world.data.index.map(lambda i: f"{100 + i:03d}-45-{6000 + i}").rename("ssn"))
    model = lambda df: (df["sex"] == "male").to_numpy()  # noqa: E731
    plain = fp.Probe(data=data, model=model, protected="sex", label="hired", features=["sex", "skills_score"])
    raw = plain.invariance("sex", max_flip_rate=0.01)
    ssns = [ex["row"] for ex in raw.counterexamples]
    assert ssns and all(s in data.index for s in ssns)  # without redaction the rows are the SSNs
    for named in ("ssn", "index"):
        probe = fp.Probe(data=data, model=model, protected="sex", label="hired", features=["sex", "skills_score"],
                         redact=[named])
        result = probe.invariance("sex", max_flip_rate=0.01)
        assert all(str(ex["row"]).startswith("h:") for ex in result.counterexamples)
        assert not any(s in result.report() for s in ssns)
    evidence = fp.Evidence(redact=["ssn"])  # the session's redaction names the index of the data checked
    evidence.add(raw)
    bundle = evidence.write(tmp_path / "e")
    for path in bundle.iterdir():
        assert not any(s.encode() in path.read_bytes() for s in ssns), path.name


def test_a_redacted_column_no_data_holds_is_an_error_naming_it(tmp_path, result):
    evidence = fp.Evidence(redact=["frist_name", "sex"])
    evidence.add(result)
    with pytest.raises(fp.InvalidSpec, match=r"redaction names 'frist_name', which no checked data holds as a column "
                                              r"or index \(did you mean 'frist_name' -> 'first_name'\?\).*nothing is "
                                              r"written"):
        evidence.write(tmp_path)
    assert list(tmp_path.iterdir()) == []
    fine = fp.Evidence(redact=["first_name", "text", "index"])
    fine.add(result)
    assert fp.verify(fine.write(tmp_path)) == []


def test_the_evidence_keeps_the_hashes_the_failure_text_shows(tmp_path):
    world = fp.worlds.hiring(n=500, seed=3)
    key = b"0123456789abcdef0123456789abcdef"
    probe = fp.Probe(data=world.data, model=lambda df: (df["sex"] == "male").to_numpy(), protected="sex",
                     label="hired", features=["sex", "skills_score"], redact=["sex", "first_name"])
    import os

    os.environ["FAIRPROBE_REDACT_KEY"] = key.decode()
    try:
        result = probe.invariance("sex", max_flip_rate=0.01)
    finally:
        del os.environ["FAIRPROBE_REDACT_KEY"]
    shown = [ex["changes"]["sex"] for ex in result.counterexamples]
    assert shown and all(v.startswith("h:") for pair in shown for v in pair)
    assert all(f"sex: {a} -> {b}" in result.report() for a, b in shown)
    evidence = fp.Evidence(redact=["sex"], redact_key=key)  # the session hashes the same column again
    evidence.add(result)
    document = json.loads((evidence.write(tmp_path) / "evidence.json").read_text())
    assert [ex["changes"]["sex"] for ex in document["checks"][0]["counterexamples"]] == shown


def test_a_carriage_return_inside_a_value_splits_no_csv_row(tmp_path, result):
    import csv
    import io

    record = result.to_dict()
    record["counterexamples"] = [{"row": 0, "changes": {"note": ["ok\r+cmd|' /C calc'!A0", "x\r\n=1+1"],
                                                         "other": ["a\rb", "\r@SUM(A1)"]},
                                  "original_decision": True, "twin_decision": False}]
    evidence = fp.Evidence()
    evidence.add(record, test="t")
    text = (evidence.write(tmp_path) / "counterexamples.csv").read_bytes().decode("utf-8")
    assert "\r" not in text
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert len(rows) == 3 and len({len(r) for r in rows}) == 1  # a header and one row per changed column
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    assert any(cell == "ok\n+cmd|' /C calc'!A0" for row in rows for cell in row)  # one quoted, multi-line cell


SESSION_REDACTION = '''
import fairprobe as fp

world = fp.worlds.hiring(n=400, seed=3)
data = world.data.set_index(world.data.index.map(lambda i: f"{100 + i:03d}-45-{6000 + i}").rename("ssn"))
probe = fp.Probe(data=data, model=lambda df: (df["sex"] == "male").to_numpy(), protected="sex", label="hired",
                 features=["sex", "skills_score"])

def test_x():
    probe.assert_invariant("sex", max_flip_rate=0.01)
'''


def test_the_session_redaction_covers_the_failure_text_the_junit_xml_and_the_evidence(pytester):
    pytester.makepyfile(test_probe=SESSION_REDACTION)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--fairprobe-redact=sex,ssn",
                                           "--junitxml=junit.xml")
    result.assert_outcomes(failed=1)
    shown = result.stdout.str() + (pytester.path / "junit.xml").read_text()
    assert "worst twin pairs (5)" in shown
    assert "sex: female -> male" not in shown and "sex: male -> female" not in shown
    assert "-45-" not in shown  # no SSN, as a row label or anywhere
    import re

    pairs = re.findall(r"row (h:[0-9a-f]{12}): sex: (h:[0-9a-f]{12}) -> (h:[0-9a-f]{12})", result.stdout.str())
    assert len(pairs) == 5
    reports = pytester.path / "reports"
    document = json.loads((reports / (reports / "LATEST").read_text().strip() / "evidence.json").read_text())
    recorded = [(ex["row"], *ex["changes"]["sex"]) for ex in document["checks"][0]["counterexamples"]]
    assert recorded == pairs  # the evidence holds the hashes the failure text shows: none hashed twice


def test_a_misspelt_session_redaction_fails_the_run_naming_the_column(pytester):
    pytester.makepyfile(test_probe=SESSION_REDACTION.replace("assert_invariant", "invariance"))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--fairprobe-redact=sexx")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stdout.fnmatch_lines(["*fairprobe: --fairprobe-redact: redaction names 'sexx', which no checked data holds "
                                 "as a column or index (did you mean 'sexx' -> 'sex'?)*"])
    assert not (pytester.path / "reports").exists() or not any((pytester.path / "reports").iterdir())


def test_xdist_workers_hash_alike_with_the_session_key(pytester):
    pytest.importorskip("xdist")
    pytester.makepyfile(test_probe=SESSION_REDACTION)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--fairprobe-redact=sex", "-n", "2",
                                           "--dist", "each")  # each worker runs the test: two checks, two workers
    result.assert_outcomes(failed=2)
    import re

    pairs = re.findall(r": sex: (h:[0-9a-f]{12}) -> (h:[0-9a-f]{12})", result.stdout.str())
    assert len(pairs) == 10
    assert len({h for pair in pairs for h in pair}) == 2  # female and male: one hash each, whichever worker
    reports = pytester.path / "reports"
    document = json.loads((reports / (reports / "LATEST").read_text().strip() / "evidence.json").read_text())
    recorded = {h for check in document["checks"] for ex in check["counterexamples"] for h in ex["changes"]["sex"]}
    assert recorded == {h for pair in pairs for h in pair}
    assert {c["context"]["redact_key_id"] for c in document["checks"]} == {document["redaction"]["key_id"]}
