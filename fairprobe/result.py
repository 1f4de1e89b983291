"""CheckResult: the outcome of one check, and the text a reader sees (a short table, the worst pairs)."""

from __future__ import annotations

import difflib
import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

import numpy as np

from fairprobe.data import plain
from fairprobe.verdicts import ERROR, FAIL, INCONCLUSIVE, PASS, CheckKind, Mode, Verdict, sign

TITLES = {CheckKind.INVARIANCE: "invariance of the decision to",
          CheckKind.EQUALIZED_ODDS: "equalized odds across",
          CheckKind.DEMOGRAPHIC_PARITY: "demographic parity across",
          CheckKind.NO_WORSE_THAN: "no worse than the baseline:"}


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: statistic, interval, bound, verdict and what supports them.

    ``interval`` holds the one-sided lower and upper bounds, each at level ``alpha``. ``verdict``
    is PASS when the interval lies inside the acceptable region, FAIL when outside it and
    INCONCLUSIVE otherwise; ``n_to_decide`` says how many records would decide an inconclusive
    check if the observed rates held. ``warnings`` are sentences a reader of the verdict must see:
    a check that exercised nothing (vacuous: the model could not see what the twins changed;
    degenerate: every decision was the same), a partly vacuous one, a threshold outside the
    model's scores, a column that encodes the protected attribute.
    """

    check: CheckKind
    attributes: tuple[str, ...]
    statistic: float
    statistic_name: str
    interval: tuple[float, float]
    bound: float
    comparison: Literal["<", ">"]
    verdict: Verdict
    alpha: float
    n: int
    method: str
    mode: Mode = Mode.DETECT
    n_to_decide: int | None = None
    groups: list[dict[str, Any]] = field(default_factory=list)
    pairs: list[dict[str, Any]] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    counterexamples: list[dict[str, Any]] = field(default_factory=list)
    context: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def fails_build(self) -> bool:
        """True when this result fails a test: a FAIL, or an INCONCLUSIVE in certify mode."""
        return self.verdict == FAIL or (self.verdict == INCONCLUSIVE and self.mode == Mode.CERTIFY)

    @property
    def title(self) -> str:
        twins = self.context.get("twins")
        what = TITLES.get(CheckKind(self.check), str(self.check))
        if self.check == CheckKind.NO_WORSE_THAN:
            what = f"{what} {self.details.get('compared', '')} across"
        return f"{what} {' x '.join(self.attributes)}" + (f" ({twins} twins)" if twins else "")

    def with_context(self, **context: Any) -> CheckResult:
        """A copy with more context (model, data fingerprint, queries, seed) for the evidence."""
        return replace(self, context={**self.context, **context})

    def with_warnings(self, *sentences: str) -> CheckResult:
        """A copy with more warnings (duplicates dropped, order kept)."""
        kept = list(dict.fromkeys([*self.warnings, *sentences]))
        return replace(self, warnings=kept)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (no numpy types), as written into the evidence."""
        return plain(asdict(self) | {"fails_build": self.fails_build, "title": self.title})

    def summary(self) -> str:
        """One line: verdict, check, statistic, interval and bound."""
        lo, hi = self.interval
        line = (f"{self.verdict.upper()} {self.title}: {self.statistic_name} {fmt(self.statistic)} "
                f"[{fmt(lo)}, {fmt(hi)}] bound {sign(self.comparison)} {fmt(self.bound)} (n={self.n})")
        return line + (f" ({len(self.warnings)} warning{'s' if len(self.warnings) > 1 else ''})"
                       if self.warnings else "")

    def report(self) -> str:
        """The readable account used as a violation message: a short table, groups, worst pairs."""
        lo, hi = self.interval
        conf = f"one-sided {1 - self.alpha:.0%} bounds, {self.method}"
        lines = [
            f"{self.verdict.upper()}  {self.title}",
            f"  statistic  {self.statistic_name} = {fmt(self.statistic)}",
            f"  interval   [{fmt(lo)}, {fmt(hi)}]  ({conf})",
            f"  bound      {self.statistic_name} {sign(self.comparison)} {fmt(self.bound)}",
            f"  n          {self.n}",
            f"  verdict    {self.verdict.upper()} in {self.mode} mode: {self._reason()}",
        ]
        lines.extend(f"  WARNING    {sentence}" for sentence in self.warnings)
        for name, gate in self.details.get("gates", {}).items():
            glo, ghi = gate["interval"]
            lines.append(f"  also       {name} = {fmt(gate['statistic'])} [{fmt(glo)}, {fmt(ghi)}] "
                         f"bound {sign(gate['comparison'])} {fmt(gate['bound'])}: {str(gate['verdict']).upper()}")
        exercised = self.details.get("exercised")
        if exercised:
            lines.append(f"  exercised  {_percent(exercised['identical_share'])} of valid twins identical to their "
                         f"original on the model's columns; favourable decisions for "
                         f"{_percent(exercised['positive_share_original'])} of the originals, "
                         f"{_percent(exercised['positive_share_twins'])} of the twins")
        floor = self.details.get("noise_floor")
        if floor:
            lines.append(f"  noise floor  {floor['statistic_name']} {fmt(floor['statistic'])} with the record's own "
                         f"protected value ({floor['what']})")
        null = self.details.get("null_noise_floor")
        if null:
            lo_n, hi_n = null["interval"]
            lines.append(f"  null floor   {null['statistic_name']} {fmt(null['statistic'])} [{fmt(lo_n)}, {fmt(hi_n)}] "
                         "with the attribute's link to the data broken (null twins)")
        structure = self.details.get("generator_info", {}).get("structure")
        if structure:
            for attribute, info in structure["attributes"].items():
                lines.append(f"  twins move   {attribute}: {', '.join(info['moved']) or 'nothing'} ({info['how']}); "
                             f"kept: {', '.join(info['kept']) or 'nothing'}")
        if self.groups:
            lines.append("  groups:")
            lines.extend("    " + row for row in table(self.groups))
        if self.check == CheckKind.INVARIANCE:
            for d in self.pairs:
                who = f"{d['favoured']} favoured" if d["favoured"] else "no group favoured"
                lines.append(f"  direction  {d['group_a']} vs {d['group_b']}: {who} ({d['favour_a']} vs "
                             f"{d['favour_b']} records, of {d['discordant_twins']} discordant twin pairs; "
                             f"exact sign test on records {_p_value(d['p_value'])})")
            change = self.details.get("score_change")
            if change:
                lines.append(f"  scores     twin - original: median {fmt(change['median'])}, 1%..99% "
                             f"[{fmt(change['q01'])}, {fmt(change['q99'])}], max |change| {fmt(change['max_abs'])}")
        if self.pairs and self.check != CheckKind.INVARIANCE:
            if self.comparison == ">":  # ratios: the smallest is the worst (an undefined one, 0/0, last)
                worst = sorted(self.pairs, key=lambda p: math.inf if p.get("estimate") is None else p["estimate"])[:6]
            else:
                worst = sorted(self.pairs, key=lambda p: -abs(p.get("estimate", 0) or 0))[:6]
            lines.append("  pairs (worst first):")
            lines.extend("    " + row for row in table(worst))
        for note in self.details.get("notes", []):
            lines.append(f"  note: {note}")
        if self.counterexamples:
            lines.append(f"  worst twin pairs ({len(self.counterexamples)}):")
            for ex in self.counterexamples:
                lines.append("    " + describe_pair(ex))
        return "\n".join(lines)

    def _reason(self) -> str:
        lo, hi = self.interval
        single = self.check == CheckKind.INVARIANCE
        not_certified = self.details.get("not_certified")
        if not_certified:
            return not_certified
        if self.details.get("below_null_floor") and self.verdict == INCONCLUSIVE:
            return self.details["below_null_floor"]
        if self.verdict == PASS:
            # closed region: an upper bound equal to the bound passes, and the text must not call it "below"
            return (f"the upper bound {fmt(hi)} is {'below' if hi < self.bound else 'at'} {fmt(self.bound)}" if single
                    else "every pairwise interval lies inside the bound")
        if self.verdict == FAIL:
            return (f"the lower bound {fmt(lo)} is above {fmt(self.bound)}" if single and lo > self.bound
                    else "an interval lies wholly outside the bound")
        if self.n_to_decide:
            more = f"; about {self.n_to_decide} records would decide it"
        elif self.details.get("on_the_bound"):  # set only where n_to_decide was asked and found no size
            more = "; the estimate sits on the bound, more data alone will not decide it"
        else:  # not asked: a sequential check stopped by its budget, a comparison of two models
            more = ""
        return "an interval straddles the bound" + more


# The option that bounds each check's statistic, and on which side: what an errored check was asked to show.
BOUNDS = {CheckKind.INVARIANCE: (("max_flip_rate", "<"),),
          CheckKind.EQUALIZED_ODDS: (("max_gap", "<"),),
          CheckKind.DEMOGRAPHIC_PARITY: (("max_gap", "<"), ("min_ratio", ">")),
          CheckKind.NO_WORSE_THAN: (("max_increase", "<"),)}


@dataclass(frozen=True)
class CheckError:
    """A check that raised before it reached a verdict: what it was asked, and the error.

    It is recorded as a :class:`CheckResult` is (``fp.settings.collecting()``, the pytest plugin,
    ``fp.Evidence.add``) with the verdict ERROR, so a check that errors never drops out of the evidence:
    the bundle, the gate (which no run with an errored check passes), the report, the terminal summary and
    every export name it. The exception itself still reaches the caller. Its record has the keys of a
    result's, with no statistic, interval or n, and ``error`` (``type``, ``message``, ``where``).

    Examples
    --------
    >>> error = CheckError.of(KeyError("age"), check="demographic_parity", attributes=("sex",),
    ...                       options={"min_ratio": 0.8})
    >>> error.summary()
    "ERROR demographic parity across sex: KeyError: 'age' (no verdict)"
    >>> error.to_dict()["bound"], error.fails_build
    (0.8, True)
    """

    check: CheckKind
    attributes: tuple[str, ...]
    error_type: str
    message: str
    where: str = ""
    mode: Mode = Mode.DETECT
    alpha: float | None = None
    options: dict[str, Any] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)

    verdict = ERROR
    fails_build = True  # a check that reached no verdict can pass no gate
    counterexamples = ()  # the shape of a result's, for code that reads any record: nothing was scored
    warnings = ()

    @classmethod
    def of(cls, exc: BaseException, *, check: CheckKind | str, attributes: Any, options: dict[str, Any] | None = None,
           mode: Any = None, alpha: Any = None, context: dict[str, Any] | None = None) -> CheckError:
        """The record of ``exc``, raised by a ``check`` of ``attributes`` asked with ``options``."""
        if isinstance(attributes, str):
            names: tuple[str, ...] = (attributes,)
        else:
            try:  # a check that raised on its attributes (a number, say) keeps them as they were given
                names = tuple(str(a) for a in attributes or ())
            except TypeError:
                names = (str(attributes),)
        frame = None
        tb = exc.__traceback__
        while tb is not None:  # the innermost frame: where it was raised
            frame, tb = tb, tb.tb_next
        where = (f"{frame.tb_frame.f_code.co_filename.rsplit('/', 1)[-1]}:{frame.tb_lineno} in "
                 f"{frame.tb_frame.f_code.co_name}") if frame is not None else ""
        try:
            mode = Mode(mode) if mode is not None else Mode.DETECT
        except ValueError:
            mode = Mode.DETECT  # the bad mode may be the very error
        return cls(check=CheckKind(check), attributes=names, error_type=type(exc).__name__, message=str(exc),
                   where=where, mode=mode, alpha=alpha if isinstance(alpha, float) else None,
                   options=dict(options or {}), context=dict(context or {}))

    @property
    def title(self) -> str:
        what = TITLES.get(self.check, str(self.check))
        if self.check == CheckKind.NO_WORSE_THAN:
            what = f"{what} {self.options.get('check', 'invariance')} across"
        twins = self.context.get("twins")
        return f"{what} {' x '.join(self.attributes)}" + (f" ({twins} twins)" if twins else "")

    def bound(self) -> tuple[Any, str]:
        """The bound the check was asked to hold and its side (None, "" when it was not given)."""
        for option, side in BOUNDS.get(self.check, ()):
            if self.options.get(option) is not None:
                return self.options[option], side
        return (0.0, "<") if self.check == CheckKind.NO_WORSE_THAN else (None, "")

    def with_context(self, **context: Any) -> CheckError:
        return replace(self, context={**self.context, **context})

    def to_dict(self) -> dict[str, Any]:
        """The evidence record: a result's keys (no statistic, interval or n) and ``error``."""
        bound, side = self.bound()
        return plain({
            "check": self.check, "attributes": list(self.attributes), "statistic": None, "statistic_name": "",
            "interval": [None, None], "bound": bound, "comparison": side, "verdict": ERROR, "alpha": self.alpha,
            "n": 0, "method": "", "mode": self.mode, "n_to_decide": None, "groups": [], "pairs": [],
            "details": {"options": self.options}, "counterexamples": [], "context": self.context, "warnings": [],
            "error": {"type": self.error_type, "message": self.message, "where": self.where},
            "fails_build": True, "title": self.title})

    def summary(self) -> str:
        return f"ERROR {self.title}: {self.error_type}: {self.message} (no verdict)"

    def report(self) -> str:
        return "\n".join([f"ERROR  {self.title}", f"  error      {self.error_type}: {self.message}",
                          f"  raised at  {self.where or '?'}", "  verdict    none: the check raised before it "
                          "reached one; a run with an errored check cannot pass"])


def not_certifiable(verdict: Verdict, mode: Mode, reasons: list[str]) -> tuple[Verdict, str | None]:
    """In certify mode a check that exercised nothing certifies nothing: its PASS becomes INCONCLUSIVE."""
    if mode == Mode.CERTIFY and verdict == PASS and reasons:
        return INCONCLUSIVE, ("nothing was certified: " + "; ".join(reasons))
    return verdict, None


# --------------------------------------------------------------------------- formatting


def fmt(x: Any) -> str:
    """A number as a reader wants it: 4 significant digits, small values in e-notation."""
    if x is None:
        return "-"
    if isinstance(x, (float, np.floating)):
        value = float(x)
        if not np.isfinite(value):
            return "inf" if value > 0 else ("-inf" if value < 0 else "nan")
        return f"{value:.4g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.2e}"
    return str(x)


def table(rows: list[dict[str, Any]], limit: int = 12) -> list[str]:
    """Rows of dicts as aligned text lines, header first."""
    rows = rows[:limit]
    cols = [c for c in rows[0] if not c.endswith("_corrected")]
    cells = [[fmt(r.get(c)) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]

    def line(values: list[str]) -> str:
        return "  ".join(v.ljust(w) for v, w in zip(values, widths)).rstrip()

    return [line(cols)] + [line(r) for r in cells]


def text_diff(a: str, b: str) -> str:
    """The word-level edits between two texts: ``[She -> He; her -> his]``."""
    x, y = a.split(), b.split()
    edits = [f"{' '.join(x[i0:i1]) or '(nothing)'} -> {' '.join(y[j0:j1]) or '(nothing)'}"
             for op, i0, i1, j0, j1 in difflib.SequenceMatcher(a=x, b=y, autojunk=False).get_opcodes() if op != "equal"]
    return "[" + "; ".join(edits) + "]"


def describe_pair(ex: dict[str, Any]) -> str:
    """One counterexample as a line: the changed columns, the scores and the decisions."""
    changes = ", ".join(
        f"{c}: {text_diff(a, b)}" if isinstance(a, str) and isinstance(b, str) and max(len(a), len(b)) > 60
        else f"{c}: {a} -> {b}" for c, (a, b) in ex["changes"].items())
    yes = {True: "yes", False: "no"}
    score = ""
    if ex.get("original_score") is not None:
        score = f"  score {fmt(ex['original_score'])} -> {fmt(ex['twin_score'])}"
    return (f"row {ex['row']}: {changes or '(no column changed)'}{score}  decision "
            f"{yes[bool(ex['original_decision'])]} -> {yes[bool(ex['twin_decision'])]}")


def _percent(share: float) -> str:
    """A share as a percentage a reader cannot take for a count: 0 -> '0 %', 0.4968 -> '49.7 %'.

    >>> _percent(0.0), _percent(0.49684), _percent(1.0), _percent(0.0004)
    ('0 %', '49.7 %', '100 %', '0.04 %')
    """
    value = 100 * float(share)
    if value == 0 or value == 100:
        return f"{value:.0f} %"
    return f"{value:.3g} %"


def _p_value(p: float) -> str:
    """A p-value as it can be read: one below the smallest positive double is not 0 but "p < 1e-300".

    >>> _p_value(0.0), _p_value(0.0642), _p_value(3.98e-59)
    ('p < 1e-300', 'p=0.0642', 'p=3.98e-59')
    """
    return "p < 1e-300" if p == 0 else f"p={fmt(p)}"
