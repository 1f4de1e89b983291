"""The HTML report: the evidence as a document a compliance reader can sign.

One self-contained page (no scripts, no external files): the gate verdict and the mode at the top,
the probes and the models they tested (class, fingerprint, version), a summary table that fits a
1,000 px window, every check with its interval plot, warnings and what it exercised, the impact-ratio
tables, a glossary, a sign-off block and the environment. A print stylesheet expands every collapsed
section, so the printed or PDF copy holds everything the screen can show.
"""

from __future__ import annotations

from typing import Any

GLOSSARY = [
    ("PASS", "The whole confidence interval of the statistic lies on the acceptable side of the bound: the "
             "data show, at level alpha, that the model meets it."),
    ("FAIL", "The whole interval lies on the wrong side of the bound: the data show, at level alpha, that the "
             "model breaks it. A FAIL fails the build."),
    ("INCONCLUSIVE", "The interval straddles the bound: these records cannot tell. It is not a pass. The check "
                     "says how many records would decide it if the observed rates held. In detect mode it does "
                     "not fail the build; in certify mode (release gates) it does."),
    ("ERROR", "The check raised an exception (the model failed, an option or column was wrong) before it reached "
              "a verdict. It shows nothing either way, so a run with an errored check never passes the gate."),
    ("One-sided bounds", "The interval [L, U] is a lower bound L and an upper bound U, each holding with "
                         "probability 1 - alpha (95 % at alpha = 0.05); the method is named beside each check. "
                         "Bounds of gaps (equalized odds, parity differences) are clipped at 0, which a gap "
                         "cannot be below."),
    ("Vacuous check", "Every twin is identical to its original on the columns the model reads: the model could "
                      "not see what changed, so nothing could flip. Warned about; certify mode never certifies it."),
    ("Degenerate check", "Every decision was the same (a constant model, or a threshold outside the scores): "
                         "nothing can differ between groups. Warned about; certify mode never certifies it."),
    ("Noise floor", "What a generative twin generator changes when the protected value does not change "
                    "(self-twins). Reported beside every generative check so that reconstruction noise is not "
                    "read as discrimination."),
    ("Null noise floor", "What the same generator does to the model when the attribute's link to the data is "
                         "broken (shuffled copies of the attribute fitted beside it). A FAIL whose lower bound does "
                         "not clear the bound plus this floor is INCONCLUSIVE: it cannot be told from the "
                         "generator's chance differences between groups."),
    ("Proxy scan", "Each column the model reads, tested for how well it alone predicts the protected attribute "
                   "(out-of-fold AUC, 0.5 = no information). A column that encodes the attribute lets a model "
                   "discriminate even when flip twins change the attribute only."),
    ("Impact ratio", "A category's selection rate divided by the highest selection rate of the categories "
                     "included (NYC Local Law 144 layout); categories under 2 % of the data are listed and "
                     "excluded, and dimensions no demographic-parity check computed are listed as not computed."),
    ("Manifest digest", "The SHA-256 of MANIFEST.sha256, which lists the SHA-256 of every file of the bundle. "
                        "The run prints it; 'fairprobe verify BUNDLE --expect DIGEST' confirms that a bundle is "
                        "the one whose digest was recorded, and '--key PUB' checks the bundle's signature."),
]


def render_html(document: dict[str, Any], *, evidence_sha256: str | None = None) -> str:
    """The self-contained HTML page for an evidence document.

    Parameters
    ----------
    document : dict
        As :meth:`Evidence.to_dict` makes it (or as evidence.json holds it).
    evidence_sha256 : str, optional
        The SHA-256 of evidence.json, shown in the sign-off block (the manifest digest cannot be: the
        report is one of the files the manifest lists).

    Examples
    --------
    >>> import fairprobe as fp
    >>> html = render_html(fp.Evidence(mode="certify").to_dict())
    >>> "INCONCLUSIVE" in html and "<script" not in html
    True
    """
    import jinja2

    from fairprobe.evidence.gate import gate
    from fairprobe.evidence.exports import impact_ratio_rows, model_identity
    from fairprobe.verdicts import sign

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("fairprobe", "templates"),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
    )
    env.filters["num"] = _num
    env.filters["sign"] = sign
    env.filters["pct"] = _pct
    env.globals["plot"] = _interval_plot
    env.globals["identity"] = model_identity
    env.globals["word_edits"] = word_edits
    checks = document.get("checks", [])
    session = document.get("session") or {"complete": not document.get("incomplete"), "collected": None,
                                           "ran": None, "exit_status": document.get("summary", {}).get("exit_status")}
    verdict = document.get("gate") or gate(checks, mode=document["settings"]["mode"],
                                           incomplete=bool(document.get("incomplete")))
    return env.get_template("report.html.j2").render(
        doc=document, checks=checks, gate=verdict, session=session, probes=probe_rows(checks),
        impact=impact_ratio_rows(checks), glossary=GLOSSARY, evidence_sha256=evidence_sha256,
        signoff=document.get("signoff") or {}, redaction=document.get("redaction") or {})


def probe_rows(checks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per probe (name, model identity, data, twins, checks and their verdicts), in first-seen order."""
    from fairprobe.evidence.exports import model_identity

    rows: dict[tuple[str, ...], dict[str, Any]] = {}
    for index, record in enumerate(checks, 1):
        context = record.get("context") or {}
        identity = model_identity(context)
        key = (str(context.get("probe_id") or context.get("probe") or ""), identity["sha256"],
               str(context.get("data_sha256", "")))
        row = rows.setdefault(key, {
            "name": context.get("probe") or "(unnamed probe)", "model": identity,
            "data_sha256": context.get("data_sha256", ""), "data_rows": context.get("data_rows"),
            "protected": context.get("protected", []), "held": context.get("held", []),
            "twins": [], "queries": 0, "checks": [], "verdicts": {}})
        twins = context.get("twins") or record.get("details", {}).get("generator")
        if twins and twins not in row["twins"]:
            row["twins"].append(twins)
        row["queries"] = max(row["queries"], int(context.get("queries") or 0))
        row["checks"].append(index)
        row["verdicts"][record["verdict"]] = row["verdicts"].get(record["verdict"], 0) + 1
    return list(rows.values())


def word_edits(a: Any, b: Any, *, longer_than: int = 60) -> list[tuple[str, str]]:
    """The word-level edits between two long texts, ``[(old words, new words), ...]``; [] for short values.

    Examples
    --------
    >>> word_edits("She holds a degree and enjoys chess in her spare time.",
    ...            "He holds a degree and enjoys chess in his spare time.", longer_than=10)
    [('She', 'He'), ('her', 'his')]
    """
    import difflib

    if not isinstance(a, str) or not isinstance(b, str) or max(len(a), len(b)) <= longer_than:
        return []
    x, y = a.split(), b.split()
    return [(" ".join(x[i0:i1]) or "(nothing)", " ".join(y[j0:j1]) or "(nothing)")
            for op, i0, i1, j0, j1 in difflib.SequenceMatcher(a=x, b=y, autojunk=False).get_opcodes()
            if op != "equal"]


def _num(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.2e}"
    return str(value)


def _pct(value: Any) -> str:
    return "–" if not isinstance(value, (int, float)) else f"{100 * value:.1f}%"


def _interval_plot(record: dict[str, Any]) -> str:
    """An inline SVG: the interval as a bar, the estimate as a dot, the bound as a red line."""
    lo, hi = (v if isinstance(v, (int, float)) else None for v in record["interval"])
    stat, bound = record.get("statistic"), record["bound"]
    finite = [v for v in (lo, hi, stat, bound) if isinstance(v, (int, float))]
    top = max(1.0 if record["comparison"] == ">" else 0.0, *(v * 1.15 for v in finite)) or 1.0
    width, pad = 360, 10

    def x(v: float) -> float:
        return pad + (width - 2 * pad) * max(0.0, min(v, top)) / top

    colour = {"pass": "#1a7f37", "fail": "#cf222e"}.get(record["verdict"], "#9a6700")
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="34" viewBox="0 0 {width} 34" '
             f'role="img" aria-label="interval and bound">',
             f'<line x1="{pad}" y1="24" x2="{width - pad}" y2="24" stroke="#bbb"/>',
             f'<text x="{pad}" y="33" font-size="8" fill="#666">0</text>',
             f'<text x="{width - pad - 22}" y="33" font-size="8" fill="#666">{top:.3g}</text>']
    if lo is not None and hi is not None:
        parts.append(f'<rect x="{x(lo):.1f}" y="10" width="{max(x(hi) - x(lo), 1.5):.1f}" height="8" '
                     f'fill="{colour}" opacity="0.45"/>')
    if isinstance(stat, (int, float)):
        parts.append(f'<circle cx="{x(stat):.1f}" cy="14" r="3.5" fill="{colour}"/>')
    anchor = "end" if x(bound) > width * 0.75 else "start"
    label_x = x(bound) - 3 if anchor == "end" else x(bound) + 3
    parts.append(f'<line x1="{x(bound):.1f}" y1="4" x2="{x(bound):.1f}" y2="26" stroke="#cf222e" '
                 f'stroke-dasharray="3,2"/><text x="{label_x:.1f}" y="8" font-size="8" fill="#cf222e" '
                 f'text-anchor="{anchor}">bound {bound:.3g}</text></svg>')
    return "".join(parts)
