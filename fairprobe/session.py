"""The pytest session's fairprobe work: gather the checks tests record, summarise them, write the evidence.

The plugin (``_fairprobe_pytestplugin``) registers one :class:`EvidenceWriter` on the controller
(never on an xdist worker): check records reach it through ``report.user_properties``, which xdist
carries from workers. At session end it writes the bundle, adds its manifest digest to the JUnit XML,
appends a Markdown summary to ``$GITHUB_STEP_SUMMARY`` when that is set, and prints the table.
Modelled on pytest's own ``junitxml`` plugin object.
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from fairprobe.errors import FairprobeError
from fairprobe.verdicts import sign

RECORD_KEY = "fairprobe.record"
PROPERTY_PREFIX = "fairprobe:"
DIGEST_PROPERTY = "fairprobe:manifest_sha256"


def property_name(record: dict[str, Any]) -> str:
    """The JUnit property name of a check: ``fairprobe:invariance:sex|race``."""
    return f"{PROPERTY_PREFIX}{record['check']}:{'|'.join(record['attributes'])}"


def property_value(record: dict[str, Any]) -> str:
    """The JUnit property value of a check: verdict, statistic, interval, bound, n, mode (and warnings); for a
    check that raised, ``error``, the exception and the bound it was asked to hold."""
    error = record.get("error")
    if error:
        bound = f" bound={sign(record['comparison'])}{record['bound']}" if record.get("bound") is not None else ""
        return f"error {error['type']}: {error['message']}{bound} mode={record['mode']}"
    lo, hi = record["interval"]
    return (f"{record['verdict']} statistic={record['statistic']} interval=[{lo}, {hi}] "
            f"bound={sign(record['comparison'])}{record['bound']} n={record['n']} mode={record['mode']}"
            + (f" warnings={len(record['warnings'])}" if record.get("warnings") else ""))


def is_inconclusive(report: pytest.TestReport) -> bool:
    """Whether a test ran a check whose verdict was INCONCLUSIVE."""
    return any(str(name).startswith(PROPERTY_PREFIX) and str(value).startswith("inconclusive")
               for name, value in report.user_properties)


class EvidenceWriter:
    """Gathers check records from test reports (xdist-safe), lists them at the end of the run and writes
    the bundle (unless --fairprobe-no-evidence).

    The evidence package is imported at the first recorded check (as hypothesis's plugin loads its own only
    when a test uses it), so a run without probes never pays for it; an option that configures the evidence
    (--fairprobe-redact, --fairprobe-sign, --fairprobe-counterexamples) has it built at once, so a wrong value is
    a usage error before any test runs."""

    def __init__(self, config: pytest.Config, resolved: Any, *, write: bool = True) -> None:
        self.config = config
        self.resolved = resolved
        self.write = write
        option = config.getoption("--fairprobe-report")
        self.directory = Path(option) if option else Path(config.rootpath, config.getini("fairprobe_report"))

        limit = config.getoption("--fairprobe-counterexamples")
        if limit is not None and limit < 0:
            raise pytest.UsageError(f"fairprobe: --fairprobe-counterexamples takes a number of at least 0; got {limit}")
        self._evidence: Any = None
        self.outcomes: dict[str, str] = {}  # every test's outcome, kept here until the evidence exists
        if any(config.getoption(o) is not None for o in
               ("--fairprobe-redact", "--fairprobe-sign", "--fairprobe-counterexamples")):
            self.evidence  # noqa: B018 - built now, so that a bad value stops the run before it starts
        self.seen: set[str] = set()
        self.ran: set[str] = set()
        self.inconclusive: dict[str, list[str]] = {}
        self.bundle: Path | None = None
        self.digest: str | None = None
        self.error: str | None = None

    @property
    def loaded(self) -> bool:
        """Whether a check was recorded (or an option built the evidence): the evidence package is imported."""
        return self._evidence is not None

    @property
    def evidence(self) -> Any:
        """The run's :class:`fairprobe.evidence.Evidence`, built (and the evidence package imported) on first use."""
        if self._evidence is None:
            from fairprobe.evidence import Evidence
            from fairprobe.redact import session_key

            config, resolved = self.config, self.resolved
            redact = [c.strip() for c in (config.getoption("--fairprobe-redact") or "").split(",") if c.strip()]
            try:
                self._evidence = Evidence(
                    seed=resolved.seed, alpha=resolved.alpha, mode=str(resolved.mode),
                    command=list(config.invocation_params.args), root=str(config.rootpath),
                    redact=[c for c in redact if c != "text"], redact_text="text" in redact,
                    redact_key=session_key() if redact else None,
                    max_counterexamples=config.getoption("--fairprobe-counterexamples"),
                    sign_key=config.getoption("--fairprobe-sign"))
            except FairprobeError as exc:
                raise pytest.UsageError(f"fairprobe: {exc}") from None
            for nodeid, outcome in self.outcomes.items():
                self._evidence.set_outcome(nodeid, outcome)
        return self._evidence

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        kept = []
        for name, value in report.user_properties:
            if name != RECORD_KEY:
                kept.append((name, value))
                continue
            record = json.loads(str(value))
            if record["id"] not in self.seen:
                self.seen.add(record["id"])
                self.evidence.add(record, test=report.nodeid)
                if record["verdict"] == "inconclusive":
                    self.inconclusive.setdefault(report.nodeid, []).append(
                        f"INCONCLUSIVE {record['title']}: {record['statistic_name']} {record['statistic']} "
                        f"interval [{record['interval'][0]}, {record['interval'][1]}] bound {sign(record['comparison'])} "
                        f"{record['bound']}")
        # The full records live in the evidence; JUnit XML keeps the one-line properties.
        report.user_properties = kept
        outcome = _outcome(report, is_inconclusive(report))
        if outcome is not None:
            self.outcomes[report.nodeid] = outcome
            if self.loaded:
                self.evidence.set_outcome(report.nodeid, outcome)
        if report.when == "call" or (report.when == "setup" and not report.passed):
            self.ran.add(report.nodeid)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        # tryfirst: the bundle's digest must reach the JUnit XML before junitxml writes it.
        if not self.loaded or not self.evidence.records or not self.write:
            return
        self.evidence.exit_status = int(exitstatus)
        collected = int(getattr(session, "testscollected", 0) or 0)
        self.evidence.collected = collected
        self.evidence.ran = len(self.ran)
        self.evidence.incomplete = bool(int(exitstatus) == pytest.ExitCode.INTERRUPTED or
                                        (collected and len(self.ran) < collected))
        try:
            self.evidence.check_redaction()
        except FairprobeError as exc:
            self.error = f"fairprobe: --fairprobe-redact: {exc}"
            session.exitstatus = pytest.ExitCode.USAGE_ERROR
            return
        try:
            self.bundle = self.evidence.write(self.directory)
        except (OSError, FairprobeError) as exc:
            self.error = f"fairprobe: could not write evidence to {self.directory}: {exc}"
            session.exitstatus = pytest.ExitCode.INTERNAL_ERROR
            return
        from fairprobe.evidence import manifest_digest

        self.digest = manifest_digest(self.bundle)
        xml = _junit(self.config)
        if xml is not None:
            xml.add_global_property(DIGEST_PROPERTY, self.digest)
        summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
        if summary_file:
            try:
                with open(summary_file, "a", encoding="utf-8") as fh:
                    records = [{**r, "test_outcome": self.evidence.tests.get(r["test"]) if r.get("test") else None}
                               for r in self.evidence.ordered()]
                    fh.write(markdown_summary(records, self.evidence.mode, self.evidence.alpha, bundle=self.bundle,
                                              digest=self.digest, incomplete=self.evidence.incomplete,
                                              collected=collected, ran=len(self.ran)))
            except OSError as exc:
                self.error = f"fairprobe: could not append to $GITHUB_STEP_SUMMARY ({summary_file}): {exc}"

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        records = self.evidence.ordered() if self.loaded else []
        if not records:
            return
        tr = terminalreporter
        tr.write_sep("=", "fairprobe")
        for line, colour in summary_lines(records, self.evidence.mode, self.evidence.alpha):
            tr.write_line(line, **({colour: True} if colour else {}))
        if self.error:
            tr.write_line(self.error, red=True)
        elif self.bundle is not None:
            state = " (INCOMPLETE: the session was interrupted)" if getattr(self.evidence, "incomplete", False) else ""
            tr.write_line(f"evidence written to {self.bundle}{state}")
            tr.write_line(f"manifest sha256 {self.digest}")

    def finish_junit(self) -> None:
        """After junitxml wrote its file: a test whose checks were INCONCLUSIVE shows as skipped (default),
        passed or failed there, with the checks as the reason; the properties stay."""
        how = self.config.getoption("--fairprobe-junit-inconclusive", "skipped")
        path = getattr(self.config.option, "xmlpath", None)
        if how == "passed" or not path or not self.inconclusive or not Path(path).is_file():
            return
        rewrite_junit(Path(path), self.inconclusive, how, prefix=getattr(self.config.option, "junitprefix", None))


def _junit(config: pytest.Config) -> Any:
    try:
        from _pytest.junitxml import xml_key
    except ImportError:  # pragma: no cover - a pytest without junitxml's stash key
        return None
    return config.stash.get(xml_key, None)


def rewrite_junit(path: Path, inconclusive: dict[str, list[str]], how: str, *, prefix: str | None = None) -> None:
    """Mark the testcases of inconclusive tests as skipped (or failed) in a JUnit XML file, counts updated;
    ``prefix`` is pytest's ``--junit-prefix``, which junitxml puts before every classname."""
    tree = ET.parse(path)
    root = tree.getroot()
    for suite in ([root] if root.tag == "testsuite" else root.iter("testsuite")):
        changed = 0
        for case in suite.iter("testcase"):
            reasons = _reasons_for(case, inconclusive, prefix)
            if reasons is None or case.find("failure") is not None or case.find("error") is not None \
                    or case.find("skipped") is not None:
                continue
            element = ET.SubElement(case, "skipped" if how == "skipped" else "failure")
            element.set("type", "fairprobe.inconclusive")
            element.set("message", "; ".join(reasons))
            element.text = "\n".join(reasons)
            changed += 1
        attribute = "skipped" if how == "skipped" else "failures"
        suite.set(attribute, str(int(suite.get(attribute, "0")) + changed))
    tmp = path.with_name(f".{path.name}.fairprobe.tmp")
    tree.write(tmp, encoding="utf-8", xml_declaration=True)
    os.replace(tmp, path)


def _reasons_for(case: ET.Element, inconclusive: dict[str, list[str]], prefix: str | None = None) -> list[str] | None:
    classname, name = case.get("classname", ""), case.get("name", "")
    for nodeid, reasons in inconclusive.items():
        path, _, test = nodeid.partition("::")
        module = path[:-3].replace("/", ".") if path.endswith(".py") else path.replace("/", ".")
        parts = test.split("::")
        # as junitxml's mangle_test_address builds it: the prefix, the module path, the classes
        if name == parts[-1] and classname == ".".join([*([prefix] if prefix else []), module, *parts[:-1]]):
            return reasons
    return None


def _outcome(report: pytest.TestReport, inconclusive: bool) -> str | None:
    if report.when == "call":
        if hasattr(report, "wasxfail"):
            return "xfailed" if report.skipped else "xpassed"
        if report.passed:
            return "inconclusive" if inconclusive else "passed"
        return report.outcome
    if report.failed:
        return f"error in {report.when}"
    if report.when == "setup" and report.skipped:
        return "skipped"
    return None


# --------------------------------------------------------------------------- summaries


def check_label(record: dict[str, Any]) -> str:
    """The check's name in a table: a comparison with a baseline names what it compared
    (``no_worse_than[equalized_odds]``), so two comparisons in one test read apart."""
    compared = (record.get("details") or {}).get("compared") or \
        ((record.get("details") or {}).get("options") or {}).get("check")
    if record.get("check") == "no_worse_than":
        return f"no_worse_than[{compared or 'invariance'}]"
    return str(record["check"])


def _cells(record: dict[str, Any], fmt: Any) -> tuple[str, str, str]:
    """Statistic, interval and bound as text (a check that raised has no statistic or interval)."""
    bound = f"{sign(record['comparison'])} {fmt(record['bound'])}" if record.get("bound") is not None else "-"
    if record.get("error"):
        return "-", "-", bound
    lo, hi = record["interval"]
    return fmt(record["statistic"]), f"[{fmt(lo)}, {fmt(hi)}]", bound


def _counts_line(records: list[dict[str, Any]]) -> str:
    counts = Counter(str(r["verdict"]) for r in records)
    return ", ".join(f"{counts[v]} {v}" for v in ("pass", "fail", "inconclusive", "error") if v in counts)


def summary_lines(records: list[dict[str, Any]], mode: str, alpha: float) -> list[tuple[str, str | None]]:
    """The terminal table (test, check, attribute, statistic, interval, bound, verdict), the verdict counts, every
    check that raised (ERROR, with its exception) and every warning, as (line, colour) pairs."""
    from fairprobe.result import fmt

    names = short_ids([r["test"] or "" for r in records])
    rows = [("test", "check", "attribute", "statistic", "interval", "bound", "verdict")]
    for r in records:
        rows.append((names[r["test"] or ""], check_label(r), " x ".join(r["attributes"]), *_cells(r, fmt),
                     str(r["verdict"]).upper() + (" !" if r.get("warnings") else "")))
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    lines: list[tuple[str, str | None]] = []
    for i, row in enumerate(rows):
        line = "  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip()
        colour = None if not i else {"FAIL": "red", "ERROR": "red", "PASS": "green"}.get(row[-1].split()[0], "yellow")
        lines.append((line, colour))
    errors = [r for r in records if r.get("error")]
    warned = [(r, sentence) for r in records for sentence in r.get("warnings", [])]
    extras = ([f"{len(errors)} raised an error, so no verdict"] if errors else []) + \
        ([f"{len(warned)} warning{'s' if len(warned) > 1 else ''} (!)"] if warned else [])
    lines.append((_counts_line(records) + f" (mode {mode}, alpha {alpha})"
                  + (f"; {' and '.join(extras)}:" if extras else ""), None))
    for r in errors:
        lines.append((f"  {names[r['test'] or '']} ({check_label(r)}, {' x '.join(r['attributes'])}): ERROR "
                      f"{r['error']['type']}: {r['error']['message']}", "red"))
    for r, sentence in warned:
        lines.append((f"  {names[r['test'] or '']} ({check_label(r)}, {' x '.join(r['attributes'])}): {sentence}",
                      "yellow"))
    return lines


def markdown_summary(records: list[dict[str, Any]], mode: str, alpha: float, *, bundle: Path | None = None,
                     digest: str | None = None, incomplete: bool = False, collected: int | None = None,
                     ran: int | None = None) -> str:
    """A Markdown table of the checks for a CI job summary (GitHub's ``$GITHUB_STEP_SUMMARY``), headed by the
    bundle's own gate (records carry ``test_outcome``, so a failing check in a strict-xfail test is expected)."""
    from fairprobe.evidence.gate import gate
    from fairprobe.result import fmt

    verdict = gate(records, mode=mode, incomplete=incomplete, collected=collected, ran=ran)
    icon = {"pass": "✅", "fail": "❌", "inconclusive": "⚠️", "error": "⛔"}
    names = short_ids([r["test"] or "" for r in records])
    out = [f"## fairprobe: {verdict['verdict']}", "", f"{verdict['reason']}.", "",
           f"{len(records)} checks: " + _counts_line(records)
           + f"; {verdict['failing']} fail the build (mode {mode}, alpha {alpha}).", "",
           "| test | check | attributes | statistic | interval | bound | verdict |",
           "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in records:
        cells = [names[r["test"] or ""], check_label(r), " × ".join(r["attributes"]), *_cells(r, fmt),
                 f"{icon.get(str(r['verdict']), '')} {str(r['verdict']).upper()}"]
        out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    errors = [r for r in records if r.get("error")]
    if errors:
        out += ["", "**Checks that raised an error (no verdict)**", ""] + [
            f"- `{names[r['test'] or '']}` ({check_label(r)}): {r['error']['type']}: {r['error']['message']}"
            for r in errors]
    warned = [(r, s) for r in records for s in r.get("warnings", [])]
    if warned:
        out += ["", "**Warnings**", ""] + [f"- `{names[r['test'] or '']}` ({check_label(r)}): {s}" for r, s in warned]
    if bundle is not None:
        out += ["", f"Evidence: `{bundle}`, manifest sha256 `{digest}`"]
    return "\n".join(out) + "\n\n"


def short_ids(nodeids: list[str], width: int = 60) -> dict[str, str]:
    """Each test id shortened (:func:`short`), so that two ids never read alike: where two would, both are
    kept whole."""
    names = {nodeid: short(nodeid, width) for nodeid in dict.fromkeys(nodeids)}
    seen = Counter(names.values())
    return {nodeid: (text if seen[text] == 1 else short(nodeid, 10_000)) for nodeid, text in names.items()}


def short(nodeid: str, width: int = 60) -> str:
    """A test id without its folders, cut in the middle to ``width`` characters (its end, where parameters and
    the distinguishing words of a test's name sit, is kept).

    Examples
    --------
    >>> short("tests/probes/test_screeners.py::test_no_worse_than_the_production_model[equalized_odds]", 50)
    'test_screeners.py::test_…ion_model[equalized_odds]'
    """
    path, sep, name = nodeid.partition("::")
    text = f"{path.rsplit('/', 1)[-1]}{sep}{name}"
    if len(text) <= width:
        return text
    head = (width - 1) // 2
    return text[:head] + "…" + text[len(text) - (width - 1 - head):]
