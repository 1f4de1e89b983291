"""Evidence: redaction hashes a value once (the bundle's hashes match the failure text), and a stray signature
file on an unsigned bundle is refused without any key installed."""

import json
import os

import numpy as np
import pandas as pd

import fairprobe as fp
from fairprobe.redact import keyed_hash, redact_counterexamples, redact_result

KEY = b"a redaction key of 32 bytes....."


def test_redacting_twice_hashes_each_value_once():
    ex = [{"row": 17, "changes": {"first_name": ["Emily", "Lakisha"], "sex": ["female", "female"]}}]
    once = redact_counterexamples(ex, ["first_name", "index"], key=KEY)
    twice = redact_counterexamples(once, ["first_name", "index"], key=KEY)
    assert once[0]["changes"]["first_name"] == [keyed_hash("Emily", KEY), keyed_hash("Lakisha", KEY)]
    assert once[0]["row"] == keyed_hash(17, KEY)
    assert twice == once
    masked = redact_counterexamples(once, ["first_name"], key=KEY, text=True)  # text masking keeps hashes too
    assert masked[0]["changes"]["first_name"] == once[0]["changes"]["first_name"]


def _biased_result():
    rng = np.random.default_rng(0)
    n = 400
    frame = pd.DataFrame({"sex": rng.choice(["female", "male"], n), "first_name": rng.choice(["Ann", "Bea"], n),
                          "skill": rng.normal(size=n)})
    probe = fp.Probe(data=frame, model=lambda f: ((f["sex"] == "male") & (f["skill"] > 0)).to_numpy(),
                     protected=["sex"], held=["skill", "first_name"], features=["sex", "skill", "first_name"])
    return probe.invariance("sex", max_flip_rate=0.01)


def test_a_bundle_of_a_result_redacted_by_its_probe_holds_the_hashes_of_its_failure_text(tmp_path):
    result = redact_result(_biased_result(), ["sex"], key=KEY)
    assert result.verdict == "fail" and result.counterexamples
    shown = [ex["changes"]["sex"] for ex in result.counterexamples]
    assert shown[0] in ([keyed_hash("male", KEY), keyed_hash("female", KEY)],
                        [keyed_hash("female", KEY), keyed_hash("male", KEY)])
    evidence = fp.Evidence(seed=0, collected=1, ran=1, redact=["sex"], redact_key=KEY)
    evidence.add(result, test="tests/x.py::test_y")
    bundle = evidence.write(tmp_path)
    document = json.loads((bundle / "evidence.json").read_text())
    written = [ex["changes"]["sex"] for check in document["checks"] for ex in check["counterexamples"]]
    assert written == shown


def test_a_stray_signature_on_an_unsigned_bundle_is_refused(tmp_path):
    evidence = fp.Evidence(seed=0, collected=1, ran=1)
    evidence.add(_biased_result(), test="tests/x.py::test_y")
    bundle = evidence.write(tmp_path)
    assert fp.verify(bundle) == []
    (bundle / "MANIFEST.sha256.sig").write_bytes(os.urandom(64))
    assert fp.verify(bundle) == ["MANIFEST.sha256.sig: a signature file, but evidence.json records no signature"]


def test_a_raw_value_that_merely_starts_like_a_hash_is_hashed():
    raw = ["h:Lakisha_Wash", "h:12 Elm Road."]  # 14 characters, "h:" first: not hashes
    out = redact_counterexamples([{"row": 1, "changes": {"name": raw}}], ["name"], key=KEY)
    assert out[0]["changes"]["name"] == [keyed_hash(v, KEY) for v in raw]
