"""The gate: the overall verdict of a run, read from its checks. One definition, for the bundle, the HTML
report and a CI job summary alike (two versions once disagreed: a summary said FAIL for a failing check in a
strict-xfail test, which the bundle's gate counts as expected).
"""

from __future__ import annotations

from collections import Counter
from typing import Any


KNOWN_VERDICTS = ("pass", "fail", "inconclusive", "error")


def gate(checks: list[dict[str, Any]], *, mode: str, incomplete: bool = False, collected: int | None = None,
         ran: int | None = None) -> dict[str, Any]:
    """The overall verdict of a run: PASS only when no check fails the build, none raised and the session is
    complete.

    FAIL when a check fails the build (a FAIL, or INCONCLUSIVE in certify mode) outside an xfail test;
    else ERROR when a check raised before it reached a verdict (outside an xfail test: a check that errors
    shows nothing, so no run with one passes); else INCOMPLETE when the session did not run every test;
    else INCONCLUSIVE when a check is inconclusive (detect mode: the build passes) or there were no
    checks; else PASS.

    Examples
    --------
    >>> gate([{"verdict": "pass", "fails_build": False}], mode="detect")["verdict"]
    'PASS'
    >>> checks = [{"verdict": "pass", "fails_build": False}]
    >>> gate(checks, mode="detect", incomplete=True, collected=40, ran=13)["reason"]
    'the session was interrupted: 13 of 40 tests ran'
    >>> gate([*checks, {"verdict": "error", "fails_build": True}], mode="detect")["reason"]
    '1 check raised an error and reached no verdict'
    """
    # A verdict the gate does not know (a hand-made or edited record) shows nothing: it counts as an error.
    unknown = sorted({str(r.get("verdict")) for r in checks if str(r.get("verdict")) not in KNOWN_VERDICTS})
    checks = [r if str(r.get("verdict")) in KNOWN_VERDICTS else {**r, "verdict": "error", "fails_build": True}
              for r in checks]
    counts = Counter(str(r.get("verdict")) for r in checks)
    # A check that raised fails the build whatever its record says (records of bundles before 2.1 had none).
    fails = [r for r in checks if r.get("fails_build") or str(r.get("verdict")) == "error"]
    expected = [r for r in fails if r.get("test_outcome") == "xfailed"]
    failing = [r for r in fails if r.get("test_outcome") != "xfailed"]
    errors = [r for r in failing if str(r.get("verdict")) == "error"]
    progress = f"{ran} of {collected} tests ran" if ran is not None and collected else "not every test ran"
    errored = (f"{len(errors)} check{'s' if len(errors) > 1 else ''} raised an error and reached no verdict"
               if errors else "")
    if len(failing) > len(errors):
        fail = len(failing) - len(errors)
        verdict, reason = "FAIL", f"{fail} check{'s fail' if fail > 1 else ' fails'} the build"
        reason += f"; {errored}" if errors else ""
        reason += f"; the session was interrupted: {progress}" if incomplete else ""
    elif errors:
        verdict, reason = "ERROR", errored + (f"; the session was interrupted: {progress}" if incomplete else "")
    elif incomplete:
        verdict, reason = "INCOMPLETE", f"the session was interrupted: {progress}"
    elif not checks:
        verdict, reason = "INCONCLUSIVE", "no checks ran"
    elif counts.get("inconclusive"):
        verdict = "INCONCLUSIVE"
        reason = (f"{counts['inconclusive']} check{'s are' if counts['inconclusive'] > 1 else ' is'} inconclusive: "
                  "in detect mode that does not fail the build, but it shows nothing either way")
    elif expected:  # failing checks the tests expected (xfail): nothing fails the build, but not everything passed
        verdict, reason = "PASS", "no check fails the build"
    else:
        verdict, reason = "PASS", "every check passed"
    if unknown:
        reason += f" (verdicts the gate does not know count as errors: {', '.join(map(repr, unknown))})"
    if expected:
        reason += (f"; {len(expected)} check{'s' if len(expected) > 1 else ''} FAIL in tests marked xfail "
                   "(expected to fail)")
    return {"verdict": verdict, "reason": reason, "mode": mode, "build_fails": bool(failing) or incomplete,
            "counts": {v: counts.get(v, 0) for v in ("pass", "fail", "inconclusive", "error")},
            "failing": len(failing), "errors": len(errors), "expected_failures": len(expected)}
