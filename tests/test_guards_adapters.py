"""Adapters without a server: a KServe v2 answer to another request, an HTTP-date Retry-After, repeated unseen
rows in the row cache; and certify mode turning an INCONCLUSIVE into a failed test, in a fast unit test."""

import email.utils
import time

import numpy as np
import pandas as pd
import pytest

import fairprobe as fp
from fairprobe import settings
from fairprobe.adapters import KServeV2
from fairprobe.adapters.endpoint import _BadAnswer, _retry_after
from fairprobe.adapters.local import as_adapter


class _Response:
    def __init__(self, data=None, headers=None):
        self._data, self.headers, self.text = data, headers or {}, ""

    def json(self):
        return self._data


def _answer(request_id):
    return {"model_name": "m", "id": request_id,
            "outputs": [{"name": "probability", "shape": [2], "datatype": "FP64", "data": [0.25, 0.75]}]}


def test_a_kserve_v2_answer_to_another_request_is_refused():
    adapter = KServeV2("http://127.0.0.1:9", model="m", output="probability")
    body, token = adapter._request_body(pd.DataFrame({"x": [1, 3]}))
    assert body["id"] == token
    assert list(adapter._read(_Response(_answer(token)), 2, token)) == [0.25, 0.75]
    assert list(adapter._read(_Response(_answer(None)), 2, token)) == [0.25, 0.75]  # the id is optional in v2
    with pytest.raises(_BadAnswer, match="the answer to request 'fairprobe-other'"):
        adapter._read(_Response(_answer("fairprobe-other")), 2, token)


def test_retry_after_as_an_http_date_waits_until_that_date():
    later = email.utils.formatdate(time.time() + 120, usegmt=True)  # whole seconds: 119-120 s from now
    wait = _retry_after(_Response(headers={"Retry-After": later}), default=1.0, cap=600.0)
    assert 100 < wait <= 120
    assert _retry_after(_Response(headers={"Retry-After": later}), default=1.0, cap=30.0) == 30.0  # capped
    past = email.utils.formatdate(time.time() - 120, usegmt=True)
    assert _retry_after(_Response(headers={"Retry-After": past}), default=1.0, cap=600.0) == 0.0
    assert _retry_after(_Response(headers={"Retry-After": "7"}), default=1.0, cap=600.0) == 7.0
    assert _retry_after(_Response(headers={"Retry-After": "soon"}), default=1.5, cap=600.0) == 1.5
    assert _retry_after(_Response(headers={}), default=1.5, cap=600.0) == 1.5


def test_equal_unseen_rows_next_to_each_other_are_asked_once_and_answered_alike():
    asked = []

    def model(frame):
        asked.append(frame["x"].tolist())
        return (frame["x"] % 2 == 1).to_numpy()

    adapter = as_adapter(model)
    frame = pd.DataFrame({"x": [5, 5, 2, 7, 7, 7, 5, 2, 8]})
    answers = adapter.predict(frame)
    assert answers.decision.tolist() == (frame["x"] % 2 == 1).tolist()
    assert sorted(sum(asked, [])) == [2, 5, 7, 8] and adapter.queries == 4
    again = adapter.predict(pd.DataFrame({"x": [8, 9, 9, 5]}))  # 8 and 5 seen, 9 twice and new
    assert again.decision.tolist() == [False, True, True, True]
    assert asked[-1] == [9] and adapter.queries == 5


@pytest.fixture(scope="module")
def undecided_probe():
    # A model whose decision depends on sex in 1 of 150 records: 2 flips in 300 records at a 1 % bound is
    # neither a PASS nor a FAIL.
    n = 300
    frame = pd.DataFrame({"sex": ["female", "male"] * (n // 2), "x": np.repeat(np.arange(n // 2), 2)})

    def model(f):
        return ((f["x"] % 2 == 0) | ((f["x"] % 150 == 1) & (f["sex"] == "male"))).to_numpy()

    return fp.Probe(data=frame, model=model, protected=["sex"], held=["x"], features=["sex", "x"])


def test_certify_mode_turns_an_inconclusive_check_into_a_failed_assertion(undecided_probe):
    detected = undecided_probe.assert_invariant("sex", max_flip_rate=0.01)  # detect: does not raise
    assert detected.verdict == "inconclusive" and not detected.fails_build
    with pytest.raises(fp.FairnessViolation, match="(?i)inconclusive"):
        undecided_probe.assert_invariant("sex", max_flip_rate=0.01, mode="certify")
    with settings.using(mode="certify"), pytest.raises(fp.FairnessViolation):  # the session's mode (--fairprobe-mode)
        undecided_probe.assert_invariant("sex", max_flip_rate=0.01)
