"""The fairprobe pytest plugin: options, per-test recording, an inconclusive status, summary and evidence.

It lives outside the package, as hypothesis's ``_hypothesis_pytestplugin`` does, and imports
fairprobe only inside its hooks (and then only the light modules: settings and the session; the evidence
package at the first recorded check), so a project that runs pytest without probes pays only for those two.
The hooks use ``wrapper=True`` (pluggy 1.2, the floor pyproject.toml declares). The work is done
by library objects: :class:`fairprobe.session.EvidenceWriter` gathers the checks that tests record
(xdist-safe, through ``item.user_properties``), lists them at the end and writes the bundle.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

OPT_REPORT = "--fairprobe-report"
OPT_SEED = "--fairprobe-seed"
OPT_ALPHA = "--fairprobe-alpha"
OPT_MODE = "--fairprobe-mode"
OPT_NO_EVIDENCE = "--fairprobe-no-evidence"
OPT_JUNIT_INCONCLUSIVE = "--fairprobe-junit-inconclusive"
OPT_REDACT = "--fairprobe-redact"
OPT_COUNTEREXAMPLES = "--fairprobe-counterexamples"
OPT_SIGN = "--fairprobe-sign"
INI_REPORT, INI_SEED, INI_ALPHA, INI_MODE = "fairprobe_report", "fairprobe_seed", "fairprobe_alpha", "fairprobe_mode"
INI_CACHE = "fairprobe_cache"
JUNIT_INCONCLUSIVE = ("skipped", "passed", "failed")
WORKER_KEY = "fairprobe_redact_key"

settings_key = pytest.StashKey[Any]()
token_key = pytest.StashKey[Any]()
writer_key = pytest.StashKey[Any]()
marker_key = pytest.StashKey[dict]()


def _number(kind: type, what: str, example: str) -> Any:
    """An argparse type: ``kind(text)``, or an error saying what the option takes, e.g. and what was given."""

    def convert(text: str) -> Any:
        try:
            return kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {what}, e.g. {example}; got {text!r}") from None

    convert.__name__ = kind.__name__
    return convert


_WHOLE = _number(int, "a whole number", "0")
_ALPHA = _number(float, "a number between 0 and 0.5", "0.05")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("fairprobe", "counterfactual-fairness probes")
    group.addoption(OPT_REPORT, metavar="DIR", default=None,
                    help=f"write the evidence bundle under DIR (ini: {INI_REPORT}; default: reports)")
    group.addoption(OPT_SEED, metavar="N", type=_WHOLE, default=None,
                    help=f"default seed of probes that set none (ini: {INI_SEED}; default: 0)")
    group.addoption(OPT_ALPHA, metavar="A", type=_ALPHA, default=None,
                    help=f"level of each one-sided confidence bound (ini: {INI_ALPHA}; default: 0.05)")
    group.addoption(OPT_MODE, choices=("detect", "certify"), default=None,
                    help="detect: only FAIL fails a test; certify: INCONCLUSIVE fails too, for release gates "
                         f"(ini: {INI_MODE}; default: detect)")
    group.addoption(OPT_NO_EVIDENCE, action="store_true", default=False,
                    help="do not write an evidence bundle")
    group.addoption(OPT_JUNIT_INCONCLUSIVE, choices=JUNIT_INCONCLUSIVE, default="skipped",
                    help="how a test whose checks were INCONCLUSIVE appears in --junitxml (default: skipped, "
                         "with the check as the reason)")
    group.addoption(OPT_REDACT, metavar="COL,...", default=None,
                    help="replace these columns' values in counterexamples with a keyed hash before anything shows "
                         "them (failure text, JUnit XML, evidence); the index by its name or 'index'; 'text' also "
                         "masks names, emails and phone numbers in text values; a name no data holds is an error")
    group.addoption(OPT_COUNTEREXAMPLES, metavar="N", type=_WHOLE, default=None,
                    help="keep at most N counterexamples per check in the evidence (0: none)")
    group.addoption(OPT_SIGN, metavar="KEY", default=None,
                    help="sign the bundle's manifest with this ed25519 private key (PEM); check with "
                         "fairprobe verify --key PUB")
    parser.addini(INI_REPORT, "directory for fairprobe evidence bundles", default="reports")
    parser.addini(INI_SEED, "default seed of fairprobe probes", default="0")
    parser.addini(INI_ALPHA, "level of each one-sided confidence bound", default="0.05")
    parser.addini(INI_MODE, "detect or certify", default="detect")
    parser.addini(INI_CACHE, "directory where fitted twin generators are kept between runs", default=".fairprobe_cache")


def _resolve_settings(config: pytest.Config) -> Any:
    from fairprobe import settings
    from fairprobe.errors import FairprobeError

    def pick(option: str, ini: str, convert: Any, takes: str = "", example: str = "") -> Any:
        given = config.getoption(option)
        if given is not None:
            return given
        raw = config.getini(ini)
        try:
            return convert(raw)
        except ValueError:
            raise pytest.UsageError(f"ini option {ini} = {raw!r} is not a valid {convert.__name__}: it must be "
                                    f"{takes}, e.g. {ini} = {example}") from None

    values = {"seed": pick(OPT_SEED, INI_SEED, int, "a whole number", "0"),
              "alpha": pick(OPT_ALPHA, INI_ALPHA, float, "a number between 0 and 0.5", "0.05"),
              "mode": pick(OPT_MODE, INI_MODE, str),
              "cache_dir": str(Path(config.rootpath, config.getini(INI_CACHE))),
              # applied by every probe before a result is shown, so the failure text and JUnit XML are redacted too
              "redact": config.getoption(OPT_REDACT) or ()}
    try:
        return settings.Settings(**settings.validate(**values))
    except FairprobeError as exc:
        raise pytest.UsageError(f"fairprobe: {exc}") from None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "fairprobe(mode=None, alpha=None, seed=None): fairprobe settings for the checks in this test",
    )
    if config.option.help or config.option.version:
        return  # pytest --help: no fairprobe import at all
    from fairprobe import settings

    shared_key = getattr(config, "workerinput", {}).get(WORKER_KEY)
    if shared_key:  # an xdist worker hashes with its controller's key, so equal values hash alike in one bundle
        from fairprobe.redact import use_session_key

        use_session_key(bytes.fromhex(shared_key))
    resolved = _resolve_settings(config)
    config.stash[settings_key] = resolved
    config.stash[token_key] = settings.set_defaults(seed=resolved.seed, alpha=resolved.alpha, mode=resolved.mode,
                                                    cache_dir=resolved.cache_dir, redact=resolved.redact)
    if not hasattr(config, "workerinput"):
        from fairprobe.session import EvidenceWriter

        writer = EvidenceWriter(config, resolved, write=not config.getoption(OPT_NO_EVIDENCE))
        config.stash[writer_key] = writer
        config.pluginmanager.register(writer, "fairprobe-evidence")


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist, on the controller: hand each worker the session's redaction key (through xdist's own channel;
    never written anywhere), since the workers hash the values their checks show."""
    if node.config.getoption(OPT_REDACT):
        from fairprobe.redact import session_key

        node.workerinput[WORKER_KEY] = session_key().hex()


def pytest_unconfigure(config: pytest.Config) -> None:
    writer = config.stash.get(writer_key, None)
    if writer is not None:
        writer.finish_junit()
        config.pluginmanager.unregister(writer)
        del config.stash[writer_key]
    token = config.stash.get(token_key, None)
    if token is not None:
        from fairprobe import settings

        settings.reset(token)
        del config.stash[token_key]


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> Any:
    """Declarative probes: ``probe_*.yaml`` files (see fairprobe.yaml_probes). The one place that says which files
    are probes, and without an import, since pytest asks it of every file it collects."""
    if file_path.name.startswith("probe_") and file_path.suffix in (".yaml", ".yml"):
        from fairprobe.yaml_probes import ProbeFile

        return ProbeFile.from_parent(parent, path=file_path)
    return None


def _marker_settings(item: pytest.Item) -> dict[str, Any]:
    marker = item.get_closest_marker("fairprobe")
    if marker is None:
        return {}
    from fairprobe import settings
    from fairprobe.errors import InvalidSpec

    if marker.args:
        raise InvalidSpec(f"@pytest.mark.fairprobe takes keywords only (mode=, alpha=, seed=); got {marker.args!r}")
    try:
        return settings.validate(**marker.kwargs)
    except InvalidSpec as exc:
        raise InvalidSpec(f"@pytest.mark.fairprobe: {exc}") from None


@contextlib.contextmanager
def _checks_recorded_on(item: pytest.Item, overrides: dict[str, Any]) -> Iterator[None]:
    """While a test phase runs: the marker's settings apply and every check lands in user_properties."""
    from fairprobe import settings
    from fairprobe.session import RECORD_KEY, property_name, property_value

    def sink(result: Any) -> None:
        record = {"id": uuid.uuid4().hex, **result.to_dict()}
        item.user_properties.append((property_name(record), property_value(record)))
        item.user_properties.append((RECORD_KEY, json.dumps(record)))

    with settings.using(**overrides), settings.recording_to(sink):
        yield


# One wrapper per phase: a bad marker errors that test's setup, not the run.
@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Any:
    item.stash[marker_key] = _marker_settings(item)
    with _checks_recorded_on(item, item.stash[marker_key]):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    with _checks_recorded_on(item, item.stash.get(marker_key, {})):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    with _checks_recorded_on(item, item.stash.get(marker_key, {})):
        return (yield)


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config) -> Any:
    if report.when == "call" and report.passed and report.user_properties:
        from fairprobe.session import is_inconclusive

        if is_inconclusive(report):
            return "inconclusive", "I", ("INCONCLUSIVE", {"yellow": True})
    return None
