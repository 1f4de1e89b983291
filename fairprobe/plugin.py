"""The pytest plugin: options, per-test recording, an inconclusive status, summary and evidence.

A thin layer over the library. Checks run inside a test reach the plugin through
``fairprobe.settings.record``; each becomes a JUnit property and a JSON record in
``item.user_properties`` (which pytest-xdist carries from workers to the controller). On the
controller only, an EvidenceWriter gathers them and writes one bundle at session end.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from fairprobe import settings
from fairprobe.errors import FairprobeError, InvalidSpec

OPT_REPORT = "--fairprobe-report"
OPT_SEED = "--fairprobe-seed"
OPT_ALPHA = "--fairprobe-alpha"
OPT_MODE = "--fairprobe-mode"
OPT_NO_EVIDENCE = "--fairprobe-no-evidence"
INI_REPORT, INI_SEED, INI_ALPHA, INI_MODE = "fairprobe_report", "fairprobe_seed", "fairprobe_alpha", "fairprobe_mode"
INI_CACHE = "fairprobe_cache"
RECORD_KEY = "fairprobe.record"
PROPERTY_PREFIX = "fairprobe:"

settings_key = pytest.StashKey[settings.Settings]()
token_key = pytest.StashKey[Any]()
writer_key = pytest.StashKey["EvidenceWriter"]()
marker_key = pytest.StashKey[dict]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("fairprobe", "counterfactual-fairness probes")
    group.addoption(OPT_REPORT, metavar="DIR", default=None,
                    help=f"write the evidence bundle under DIR (ini: {INI_REPORT}; default: reports)")
    group.addoption(OPT_SEED, metavar="N", type=int, default=None,
                    help=f"default seed of probes that set none (ini: {INI_SEED}; default: 0)")
    group.addoption(OPT_ALPHA, metavar="A", type=float, default=None,
                    help=f"level of each one-sided confidence bound (ini: {INI_ALPHA}; default: 0.05)")
    group.addoption(OPT_MODE, choices=("detect", "certify"), default=None,
                    help="detect: only FAIL fails a test; certify: INCONCLUSIVE fails too, for release gates "
                         f"(ini: {INI_MODE}; default: detect)")
    group.addoption(OPT_NO_EVIDENCE, action="store_true", default=False,
                    help="do not write an evidence bundle")
    parser.addini(INI_REPORT, "directory for fairprobe evidence bundles", default="reports")
    parser.addini(INI_SEED, "default seed of fairprobe probes", default="0")
    parser.addini(INI_ALPHA, "level of each one-sided confidence bound", default="0.05")
    parser.addini(INI_MODE, "detect or certify", default="detect")
    parser.addini(INI_CACHE, "directory where fitted twin generators are kept between runs", default=".fairprobe_cache")


def _resolve_settings(config: pytest.Config) -> settings.Settings:
    def pick(option: str, ini: str, convert):
        given = config.getoption(option)
        if given is not None:
            return given
        raw = config.getini(ini)
        try:
            return convert(raw)
        except ValueError:
            raise pytest.UsageError(f"ini option {ini} = {raw!r} is not a valid {convert.__name__}") from None

    values = {"seed": pick(OPT_SEED, INI_SEED, int), "alpha": pick(OPT_ALPHA, INI_ALPHA, float),
              "mode": pick(OPT_MODE, INI_MODE, str),
              "cache_dir": str(Path(config.rootpath, config.getini(INI_CACHE)))}
    try:
        return settings.Settings(**settings.validate(**values))
    except FairprobeError as exc:
        raise pytest.UsageError(f"fairprobe: {exc}") from None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "fairprobe(mode=None, alpha=None, seed=None): fairprobe settings for the checks in this test",
    )
    resolved = _resolve_settings(config)
    config.stash[settings_key] = resolved
    config.stash[token_key] = settings.set_defaults(seed=resolved.seed, alpha=resolved.alpha, mode=resolved.mode,
                                                    cache_dir=resolved.cache_dir)
    if not hasattr(config, "workerinput"):
        writer = EvidenceWriter(config, resolved, write=not config.getoption(OPT_NO_EVIDENCE))
        config.stash[writer_key] = writer
        config.pluginmanager.register(writer, "fairprobe-evidence")


def pytest_unconfigure(config: pytest.Config) -> None:
    writer = config.stash.get(writer_key, None)
    if writer is not None:
        config.pluginmanager.unregister(writer)
        del config.stash[writer_key]
    token = config.stash.get(token_key, None)
    if token is not None:
        settings.reset(token)
        del config.stash[token_key]


def _marker_settings(item: pytest.Item) -> dict[str, Any]:
    marker = item.get_closest_marker("fairprobe")
    if marker is None:
        return {}
    if marker.args:
        raise InvalidSpec(f"@pytest.mark.fairprobe takes keywords only (mode=, alpha=, seed=); got {marker.args!r}")
    try:
        return settings.validate(**marker.kwargs)
    except InvalidSpec as exc:
        raise InvalidSpec(f"@pytest.mark.fairprobe: {exc}") from None


@contextlib.contextmanager
def _checks_recorded_on(item: pytest.Item, overrides: dict[str, Any]):
    """While a test phase runs: the marker's settings apply and every check lands in user_properties."""

    def sink(result) -> None:
        record = {"id": uuid.uuid4().hex, **result.to_dict()}
        item.user_properties.append((_property_name(record), _property_value(record)))
        item.user_properties.append((RECORD_KEY, json.dumps(record)))

    with settings.using(**overrides), settings.recording_to(sink):
        yield


# One wrapper per phase: a bad marker errors that test's setup, not the run.
@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item):
    item.stash[marker_key] = _marker_settings(item)
    with _checks_recorded_on(item, item.stash[marker_key]):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    with _checks_recorded_on(item, item.stash.get(marker_key, {})):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None):
    with _checks_recorded_on(item, item.stash.get(marker_key, {})):
        return (yield)


def _property_name(record: dict[str, Any]) -> str:
    return f"{PROPERTY_PREFIX}{record['check']}:{'|'.join(record['attributes'])}"


def _property_value(record: dict[str, Any]) -> str:
    lo, hi = record["interval"]
    return (f"{record['verdict']} statistic={record['statistic']} interval=[{lo}, {hi}] "
            f"bound={record['comparison']}{record['bound']} n={record['n']} mode={record['mode']}"
            + (f" warnings={len(record['warnings'])}" if record.get("warnings") else ""))


def _is_inconclusive(report: pytest.TestReport) -> bool:
    return any(name.startswith(PROPERTY_PREFIX) and str(value).startswith("inconclusive")
               for name, value in report.user_properties)


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config):
    if report.when == "call" and report.passed and _is_inconclusive(report):
        return "inconclusive", "I", ("INCONCLUSIVE", {"yellow": True})
    return None


class EvidenceWriter:
    """Gathers check records from test reports (xdist-safe), lists them at the end of the run and writes
    the bundle (unless --fairprobe-no-evidence)."""

    def __init__(self, config: pytest.Config, resolved: settings.Settings, *, write: bool = True) -> None:
        from fairprobe.evidence import Evidence

        self.config = config
        self.write = write
        option = config.getoption(OPT_REPORT)
        self.directory = Path(option) if option else Path(config.rootpath, config.getini(INI_REPORT))
        self.evidence = Evidence(seed=resolved.seed, alpha=resolved.alpha, mode=resolved.mode,
                                 command=list(config.invocation_params.args), root=str(config.rootpath))
        self.seen: set[str] = set()
        self.bundle: Path | None = None
        self.error: str | None = None

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
        # The full records live in the evidence; JUnit XML keeps the one-line properties.
        report.user_properties = kept
        outcome = _outcome(report, _is_inconclusive(report))
        if outcome is not None:
            self.evidence.set_outcome(report.nodeid, outcome)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if not self.evidence.records or not self.write:
            return
        self.evidence.exit_status = int(exitstatus)
        try:
            self.bundle = self.evidence.write(self.directory)
        except (OSError, FairprobeError) as exc:
            self.error = f"fairprobe: could not write evidence to {self.directory}: {exc}"
            session.exitstatus = pytest.ExitCode.INTERNAL_ERROR

    def pytest_terminal_summary(self, terminalreporter) -> None:
        records = self.evidence.ordered()
        if not records:
            return
        from fairprobe.checks.result import fmt as _fmt

        tr = terminalreporter
        tr.write_sep("=", "fairprobe")
        rows = [("test", "check", "attribute", "statistic", "interval", "bound", "verdict")]
        for r in records:
            lo, hi = r["interval"]
            rows.append((_short(r["test"] or ""), r["check"], " x ".join(r["attributes"]),
                         _fmt(r["statistic"]), f"[{_fmt(lo)}, {_fmt(hi)}]",
                         f"{r['comparison']} {_fmt(r['bound'])}", r["verdict"].upper()))
        widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
        for i, row in enumerate(rows):
            line = "  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip()
            markup = {}
            if i:
                markup = {"FAIL": {"red": True}, "PASS": {"green": True}}.get(row[-1], {"yellow": True})
            tr.write_line(line, **markup)
        counts = self.evidence.counts()
        warned = [(r, sentence) for r in records for sentence in r.get("warnings", [])]
        tr.write_line(", ".join(f"{counts[v]} {v}" for v in ("pass", "fail", "inconclusive") if v in counts)
                      + f" (mode {self.evidence.mode}, alpha {self.evidence.alpha})"
                      + (f"; {len(warned)} warning{'s' if len(warned) > 1 else ''}:" if warned else ""))
        for r, sentence in warned:
            tr.write_line(f"  {_short(r['test'] or '')} ({r['check']}, {' x '.join(r['attributes'])}): {sentence}",
                          yellow=True)
        if self.error:
            tr.write_line(self.error, red=True)
        elif self.bundle is not None:
            from fairprobe.evidence import manifest_digest

            tr.write_line(f"evidence written to {self.bundle} (manifest sha256 {manifest_digest(self.bundle)[:16]})")


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


def _short(nodeid: str, width: int = 60) -> str:
    path, sep, name = nodeid.partition("::")
    short = f"{path.rsplit('/', 1)[-1]}{sep}{name}"
    return short if len(short) <= width else short[: width - 1] + "…"
