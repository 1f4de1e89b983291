"""Files beside the evidence in standard formats: counterexamples and impact ratios as CSV, a CycloneDX
ML-BOM, an in-toto statement.

- ``counterexamples.csv``: the worst twin pairs, one changed column per line;
- ``impact_ratios.csv``: selection rates and impact ratios per category, laid out as the bias audits of
  NYC Local Law 144 publish them (sex, race/ethnicity and their intersection; categories under 2 % of
  the data disclosed as excluded), from the demographic-parity checks' group counts;
- ``bom.cdx.json``: a CycloneDX 1.6 ML-BOM: each model as a ``machine-learning-model`` component with a
  model card whose ``quantitativeAnalysis`` and ``considerations.fairnessAssessments`` hold every check
  (statistic, interval, bound, verdict). Built with ``cyclonedx-python-lib`` (``pip install
  'fairprobe[exports]'``); that library has no model-card classes yet (CycloneDX/cyclonedx-python-lib
  #912), so the card is added to its JSON, and the tests validate the result against the 1.6 schema;
- ``attestation.intoto.json``: an in-toto v1 Statement whose subjects are the bundle's other files with
  their SHA-256 and whose predicate is a test result (https://in-toto.io/attestation/test-result/v0.1).
"""

from __future__ import annotations

import base64
import csv
import datetime as _dt
import io
import json
import os
from collections import defaultdict
from typing import Any

from fairprobe.redact import escape_cell
from fairprobe.twins.base import split_group
from fairprobe.verdicts import sign

IN_TOTO_STATEMENT = "https://in-toto.io/Statement/v1"
TEST_RESULT_PREDICATE = "https://in-toto.io/attestation/test-result/v0.1"
EXCLUDE_BELOW = 0.02  # LL144 audits may leave out categories under 2 % of the data, and must say so
_SEX = ("sex", "gender")
_RACE = ("race", "ethnicity", "race_ethnicity", "race/ethnicity")
_UNKNOWN = ("nan", "none", "", "unknown")


def counterexamples_csv(checks: list[dict[str, Any]]) -> str:
    """The counterexamples of every check, one changed column per line, cells escaped against formulas; a check
    that raised (no counterexamples could be looked for) is one line with its ``error`` and nothing else."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["test", "check", "attributes", "row", "column", "original", "twin", "original_score",
                     "twin_score", "original_decision", "twin_decision", "probe", "error"])
    for record in checks:
        probe = (record.get("context") or {}).get("probe") or ""
        if record.get("error"):
            writer.writerow([escape_cell(v) for v in (
                record.get("test") or "", record["check"], "|".join(record["attributes"]), *[""] * 8, probe,
                f"{record['error']['type']}: {record['error']['message']} (no verdict, no counterexamples)")])
        for ex in record.get("counterexamples", []):
            for column, (before, after) in ex["changes"].items():
                writer.writerow([escape_cell(v) for v in (
                    record.get("test") or "", record["check"], "|".join(record["attributes"]), ex["row"], column,
                    before, after, ex.get("original_score"), ex.get("twin_score"), ex["original_decision"],
                    ex["twin_decision"], probe, "")])
    return out.getvalue()


def impact_ratio_rows(checks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Selection rate and impact ratio per category, as LL144 bias audits lay them out, and what was not computed.

    One table per probe and dimension (Sex, Race/Ethnicity, their intersection, or another protected
    attribute), from each demographic-parity check's group counts; an intersectional check also gives
    the marginal tables when no check of that attribute alone is present. The impact ratio is a
    category's selection rate over the highest selection rate among the included categories;
    categories under 2 % of the table's records, and unknown values, are listed and left out of it.
    A table covers only the checks that ran, so each probe's dimensions that no check computed (each
    protected attribute alone, and sex x race/ethnicity where both are protected) get one row whose
    status says ``not computed`` and why: no demographic-parity check of them ran, or the one that did
    raised an error.

    Examples
    --------
    >>> check = {"check": "demographic_parity", "attributes": ["sex"], "test": "t", "context": {"probe": "p"},
    ...          "groups": [{"group": "female", "n": 500, "selected": 200},
    ...                     {"group": "male", "n": 490, "selected": 245}, {"group": "other", "n": 10, "selected": 5}]}
    >>> [(r["category"], r["impact_ratio"], r["status"]) for r in impact_ratio_rows([check])]
    [('female', 0.8, 'included'), ('male', 1.0, 'included'), ('other', None, 'excluded: under 2% of the data')]
    >>> check["context"]["protected"] = ["sex", "race"]
    >>> [(r["dimension"], r["status"]) for r in impact_ratio_rows([check]) if r["status"].startswith("not")]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('Race/Ethnicity', 'not computed: no demographic-parity check of race ran on this probe'),
     ('Intersectional (Sex x Race/Ethnicity)', 'not computed: no demographic-parity check of sex x race ran on this
     probe')]
    """
    tables: dict[tuple[str, ...], dict[str, Any]] = {}
    # What each audited probe computed, keyed by name, model and data (under xdist one probe is an object per
    # worker, so its id would split it): protected attributes, dimensions computed, checks that raised.
    probes: dict[tuple[str, str, str], dict[str, Any]] = {}
    for record in checks:
        context = record.get("context") or {}
        probe = str(context.get("probe") or "")
        seen = probes.setdefault((probe, str((context.get("model") or {}).get("sha256", "")),
                                  str(context.get("data_sha256", ""))),
                                 {"probe": probe, "protected": [], "computed": set(), "errors": {}})
        seen["protected"] = seen["protected"] or [str(a) for a in context.get("protected") or []]
        if record.get("check") != "demographic_parity":
            continue
        attrs = tuple(record["attributes"])
        if record.get("error"):
            seen["errors"][frozenset(attrs)] = record
            continue
        if not record.get("groups"):
            continue
        owner = (probe, str(context.get("probe_id") or ""), str((context.get("model") or {}).get("sha256", "")),
                 str(context.get("data_sha256", "")))
        counts = {str(g["group"]): (int(g["n"]), int(g["selected"])) for g in record["groups"]
                  if "n" in g and "selected" in g}
        source = f"{record.get('test') or 'outside pytest'}: {record.get('title', record['check'])}"
        where = (*owner, *attrs)  # a name: mypy reads d[(*a, b)] as 3.11 syntax
        tables[where] = {"probe": probe, "attributes": attrs, "counts": counts, "source": source}
        seen["computed"].add(frozenset(attrs))
        if len(attrs) > 1:
            for i, attribute in enumerate(attrs):
                marginal: dict[str, list[int]] = defaultdict(lambda: [0, 0])
                for label, (n, selected) in counts.items():
                    parts = split_group(label)
                    if len(parts) != len(attrs):
                        break
                    marginal[parts[i]][0] += n
                    marginal[parts[i]][1] += selected
                else:
                    summed = {k: tuple(v) for k, v in marginal.items()}
                    seen["computed"].add(frozenset([attribute]))
                    tables.setdefault((*owner, attribute), {
                        "probe": probe, "attributes": (attribute,), "counts": summed,
                        "source": f"{source} (summed over {' x '.join(a for a in attrs if a != attribute)})"})
    for key, seen in probes.items():
        for attrs in required_dimensions(seen["protected"]):
            if frozenset(attrs) in seen["computed"]:
                continue
            error = seen["errors"].get(frozenset(attrs))
            why = (f"the demographic-parity check of {' x '.join(attrs)} raised {error['error']['type']}: "
                   f"{error['error']['message']}" if error else
                   f"no demographic-parity check of {' x '.join(attrs)} ran on this probe")
            where = (*key, "missing", *attrs)
            tables[where] = {
                "probe": seen["probe"], "attributes": attrs, "counts": None, "why": why,
                "source": f"{error.get('test') or 'outside pytest'}: {error.get('title', error['check'])}"
                if error else ""}
    rows = []
    # As LL144 audits order them: each attribute alone, then the intersections.
    for table in sorted(tables.values(), key=lambda t: (t["probe"], len(t["attributes"]))):
        if table["counts"] is None:
            rows.append({"probe": table["probe"], "dimension": dimension(table["attributes"]),
                         "attributes": " x ".join(table["attributes"]), "category": "(not computed)",
                         "applicants": None, "selected": None, "selection_rate": None, "impact_ratio": None,
                         "share_of_data": None, "status": f"not computed: {table['why']}", "source": table["source"]})
            continue
        total = sum(n for n, _ in table["counts"].values()) or 1
        rates = {k: (s / n if n else None) for k, (n, s) in table["counts"].items()}
        status = {k: ("unknown category: not in the impact ratios" if k.strip().lower() in _UNKNOWN else
                      f"excluded: under {EXCLUDE_BELOW:.0%} of the data" if n / total < EXCLUDE_BELOW else "included")
                  for k, (n, _) in table["counts"].items()}
        top = max((r for k, r in rates.items() if status[k] == "included" and r is not None), default=None)
        for category, (n, selected) in table["counts"].items():
            rate = rates[category]
            included = status[category] == "included" and rate is not None and top
            rows.append({"probe": table["probe"], "dimension": dimension(table["attributes"]),
                         "attributes": " x ".join(table["attributes"]), "category": category, "applicants": n,
                         "selected": selected, "selection_rate": rate,
                         "impact_ratio": round(rate / top, 6) if included and top else None,
                         "share_of_data": n / total, "status": status[category], "source": table["source"]})
    return rows


def required_dimensions(protected: list[str]) -> list[tuple[str, ...]]:
    """The tables an LL144-style audit of these protected attributes holds: each attribute alone, and sex x
    race/ethnicity where both are protected.

    Examples
    --------
    >>> required_dimensions(["race", "sex", "age"])
    [('race',), ('sex',), ('age',), ('sex', 'race')]
    """
    out: list[tuple[str, ...]] = [(a,) for a in protected]
    sex = next((a for a in protected if a.lower() in _SEX), None)
    race = next((a for a in protected if a.lower() in _RACE), None)
    if sex and race:
        out.append((sex, race))
    return out


def impact_ratio_csv(checks: list[dict[str, Any]]) -> str:
    """:func:`impact_ratio_rows` as CSV (a header only when no demographic-parity check ran)."""
    columns = ["probe", "dimension", "attributes", "category", "applicants", "selected", "selection_rate",
               "impact_ratio", "share_of_data", "status", "source"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in impact_ratio_rows(checks):
        writer.writerow([escape_cell("" if row[c] is None else row[c]) for c in columns])
    return out.getvalue()


def dimension(attributes: tuple[str, ...] | list[str]) -> str:
    """The LL144 name of a set of protected attributes: Sex, Race/Ethnicity, Intersectional, or the names."""
    names = []
    for attribute in attributes:
        low = attribute.lower()
        names.append("Sex" if low in _SEX else "Race/Ethnicity" if low in _RACE else attribute)
    if len(names) > 1:
        return "Intersectional (" + " x ".join(names) + ")"
    return names[0]


def cyclonedx_bom(document: dict[str, Any]) -> tuple[str | None, str | None]:
    """A CycloneDX 1.6 ML-BOM of the run as JSON, or (None, why not) when cyclonedx-python-lib is missing."""
    try:
        from cyclonedx.model import HashAlgorithm, HashType, Property
        from cyclonedx.model.bom import Bom
        from cyclonedx.model.component import Component, ComponentType
        from cyclonedx.output.json import JsonV1Dot6
    except ImportError:
        return None, ("no CycloneDX ML-BOM: the package cyclonedx-python-lib is not installed; install it with: "
                      "pip install 'fairprobe[exports]'")
    bom = Bom()
    try:
        bom.metadata.timestamp = _dt.datetime.fromisoformat(document["created"])
    except (KeyError, ValueError):
        pass
    version = document.get("environment", {}).get("packages", {}).get("fairprobe")
    bom.metadata.tools.components.add(Component(type=ComponentType.APPLICATION, name="fairprobe", version=version))
    gate = document.get("gate", {})
    bom.metadata.properties.add(Property(name="fairprobe:gate", value=str(gate.get("verdict", ""))))
    bom.metadata.properties.add(Property(name="fairprobe:mode", value=str(document["settings"]["mode"])))
    models = _models(document["checks"])
    for ref, model in models.items():
        sha = model["sha256"]
        hashes = [HashType(alg=HashAlgorithm.SHA_256, content=sha)] if len(sha) == 64 else []
        properties = [Property(name="fairprobe:fingerprint_kind", value=model["kind"])]
        if model["method"]:
            properties.append(Property(name="fairprobe:fingerprint_method", value=model["method"]))
        properties += [Property(name="fairprobe:probe", value=p) for p in sorted(model["probes"])]
        properties += [Property(name="fairprobe:data_sha256", value=d) for d in sorted(model["data"])]
        bom.components.add(Component(type=ComponentType.MACHINE_LEARNING_MODEL, name=model["name"], bom_ref=ref,
                                     version=model["version"], description=model["description"] or None,
                                     hashes=hashes, properties=properties))
    data = json.loads(JsonV1Dot6(bom).output_as_string())
    for component in data.get("components", []):
        entry = models.get(component.get("bom-ref", ""))
        if entry is not None:
            component["modelCard"] = _model_card(component["bom-ref"], entry["checks"])
    return json.dumps(data, indent=2), None


def model_identity(context: dict[str, Any]) -> dict[str, str]:
    """What names the model in the report and the BOM: its class, fingerprint, version and description.

    The class comes from the fingerprint's ``class`` when the adapter gives one, else from its kind and
    description (a scikit-learn Pipeline lists its steps); the version from the check's
    ``context["model_version"]`` (user-given) or the fingerprint's ``version``.

    Examples
    --------
    >>> model = {"kind": "sklearn-pickle-bytes", "sha256": "ab" * 32,
    ...          "description": "Pipeline(steps=[('tfidf', TfidfVectorizer()), ('lr', LogisticRegression())])"}
    >>> identity = model_identity({"model": model, "model_version": "2.1"})
    >>> identity["class"], identity["version"]
    ('Pipeline: TfidfVectorizer → LogisticRegression', '2.1')
    """
    model = context.get("model") or {}
    kind, description = str(model.get("kind", "")), str(model.get("description", ""))
    cls = model.get("class")
    if not cls:
        if kind.startswith("sklearn") and description:
            cls = description.split("(", 1)[0].strip()
            steps = _pipeline_steps(description) if cls == "Pipeline" else []
            if steps:
                cls = "Pipeline: " + " → ".join(steps)
        elif kind.startswith("callable"):
            cls = f"Python callable {description}".strip()
        else:
            cls = kind or "unknown model"
    version = context.get("model_version") or model.get("version") or ""
    sha256 = str(model.get("sha256", ""))
    # How the identity was taken (bundles before schema 2.1 did not say; a callable was its source text then).
    method = str(model.get("method") or ("SHA-256 of the callable's source text, which does not tell two models "
                                         "behind one wrapper apart" if kind == "callable-source" else ""))
    if not sha256 and not method:
        method = "not taken"
    return {"class": str(cls), "kind": kind, "sha256": sha256, "version": str(version),
            "description": description, "method": method}


def _pipeline_steps(description: str) -> list[str]:
    """The classes of a scikit-learn Pipeline's top-level steps, read from its (possibly cut) repr."""
    steps: list[str] = []
    depth, i, start = 0, description.find("steps=["), 0
    if i < 0:
        return steps
    i += len("steps=[")
    for j in range(i, len(description)):
        c = description[j]
        if c in "([{":
            depth += 1
            if c == "(" and depth == 1:
                start = j + 1
            elif c == "(" and depth == 2 and len(steps) < 12:
                # the class called at the tuple's level: "('name', ClassName(" -> ClassName
                head = description[start:j].rsplit(",", 1)[-1].strip()
                if head.isidentifier():
                    steps.append(head)
        elif c in ")]}":
            depth -= 1
            if depth < 0:
                return steps
    return [*steps, "…"]


def in_toto_statement(document: dict[str, Any], digests: dict[str, str]) -> str:
    """An in-toto v1 Statement over the bundle's files with a test-result predicate (one test per check).

    Inconclusive checks are listed as warned, checks that raised (no verdict) as failed with their error;
    ``result`` is "pass" only when every check passed and the session was complete (the predicate's definition).
    """
    passed: list[str] = []
    warned: list[str] = []
    failed: list[str] = []
    for record in document["checks"]:
        name = f"{record.get('test') or 'outside pytest'} :: {record.get('title', record['check'])}"
        if record.get("error"):
            name += f" (ERROR {record['error']['type']}: {record['error']['message']})"
        {"pass": passed, "fail": failed, "error": failed}.get(str(record["verdict"]), warned).append(name)
    settings = {**document["settings"], "schema_version": document["schema_version"],
                "fairprobe": document.get("environment", {}).get("packages", {}).get("fairprobe")}
    configuration: list[dict[str, Any]] = [{
        "name": "fairprobe settings", "mediaType": "application/json",
        "content": base64.b64encode(json.dumps(settings, sort_keys=True).encode()).decode("ascii")}]
    if document.get("git"):
        configuration.append({"name": "git commit", "digest": {"gitCommit": document["git"]["commit"]},
                              "annotations": {"dirty": bool(document["git"].get("dirty"))}})
    predicate: dict[str, Any] = {
        "result": "pass" if not warned and not failed and not document.get("incomplete") else "fail",
        "configuration": configuration, "passedTests": passed, "warnedTests": warned, "failedTests": failed}
    url = _ci_url()
    if url:
        predicate["url"] = url
    statement = {"_type": IN_TOTO_STATEMENT,
                 "subject": [{"name": n, "digest": {"sha256": d}} for n, d in sorted(digests.items())],
                 "predicateType": TEST_RESULT_PREDICATE, "predicate": predicate}
    return json.dumps(statement, indent=2)


def _models(checks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    models: dict[str, dict[str, Any]] = {}
    for record in checks:
        context = record.get("context") or {}
        identity = model_identity(context)
        ref = f"model-{identity['sha256'][:16] or 'unknown'}"
        entry = models.setdefault(ref, {"name": identity["class"], "version": identity["version"] or None,
                                        "description": identity["description"][:300], "kind": identity["kind"],
                                        "sha256": identity["sha256"], "method": identity["method"], "probes": set(),
                                        "data": set(), "checks": []})
        if context.get("probe"):
            entry["probes"].add(str(context["probe"]))
        if context.get("data_sha256"):
            entry["data"].add(str(context["data_sha256"]))
        entry["checks"].append(record)
    return models


def _model_card(ref: str, checks: list[dict[str, Any]]) -> dict[str, Any]:
    metrics, assessments, limitations = [], [], []
    for record in checks:
        lo, hi = record["interval"]
        where = f"{record.get('title', record['check'])}; {record.get('test') or 'outside pytest'}"
        if record.get("error"):
            error = f"{record['error']['type']}: {record['error']['message']}"
            assessments.append({"groupAtRisk": " x ".join(record["attributes"]),
                                "harms": f"ERROR: the check raised {error} and reached no verdict, mode {record['mode']}",
                                "mitigationStrategy": "fails the build: a check that raised shows nothing either way "
                                f"(fairprobe {record['check']} check, {record.get('test') or 'outside pytest'})"})
            limitations.append(f"{record.get('title', record['check'])}: not assessed, the check raised {error}")
            continue
        metrics.append({"type": str(record["statistic_name"]), "value": _text(record["statistic"]),
                        "slice": where, "confidenceInterval": {"lowerBound": _text(lo), "upperBound": _text(hi)}})
        groups = ", ".join(str(g.get("group")) for g in record.get("groups", [])[:12])
        verdict = str(record["verdict"]).upper()
        assessments.append({
            "groupAtRisk": " x ".join(record["attributes"]) + (f" ({groups})" if groups else ""),
            "harms": (f"{verdict}: {record['statistic_name']} {_text(record['statistic'])}, one-sided "
                      f"{1 - float(record['alpha']):.0%} interval [{_text(lo)}, {_text(hi)}] ({record['method']}), "
                      f"bound {sign(record['comparison'])} {_text(record['bound'])}, n = {record['n']}, "
                      f"mode {record['mode']}"),
            "mitigationStrategy": ("fails the build" if record.get("fails_build") else "does not fail the build")
            + f" (fairprobe {record['check']} check, {record.get('test') or 'outside pytest'})"})
        limitations += [f"{record.get('title', record['check'])}: {w}" for w in record.get("warnings", [])]
    considerations: dict[str, Any] = {"fairnessAssessments": assessments}
    if limitations:
        considerations["technicalLimitations"] = list(dict.fromkeys(limitations))
    return {"bom-ref": f"{ref}-card", "modelParameters": {"task": "classification (favourable decision or not)"},
            "quantitativeAnalysis": {"performanceMetrics": metrics}, "considerations": considerations}


def _text(value: Any) -> str:
    return "" if value is None else f"{value:.6g}" if isinstance(value, float) else str(value)


def _ci_url() -> str | None:
    env = os.environ
    if env.get("GITHUB_RUN_ID") and env.get("GITHUB_REPOSITORY"):
        return f"{env.get('GITHUB_SERVER_URL', 'https://github.com')}/{env['GITHUB_REPOSITORY']}/actions/runs/" \
               f"{env['GITHUB_RUN_ID']}"
    return env.get("CI_JOB_URL") or None
