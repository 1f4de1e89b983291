"""A check that raises is an ERROR entry in the evidence (issue #15): pytest said 8 failed, the bundle said 7 checks
fail, and neither the HTML nor the in-toto statement named the missing one. Now every check that raises (the
model raises, a bad option or attribute, inside assert_all, compare, a YAML check, a partitioned pass) is in
the bundle, the gate, the HTML, the terminal summary, every export and the JUnit properties."""

import csv
import io
import json
import xml.etree.ElementTree as ET
from collections import Counter

import pytest

import fairprobe as fp
from fairprobe.cli import diff_lines
from fairprobe.session import markdown_summary

HEADER = '''
import pytest
import fairprobe as fp

world = fp.worlds.hiring(n=1200, seed=4)
HELD = ["years_experience", "degree", "skills_score", "certifications"]

def fair(df):
    return (df["skills_score"] > 50).to_numpy()

def biased(df):
    return ((df["skills_score"] > 50) | (df["sex"] == "male")).to_numpy()

def down(df):
    raise ConnectionError("model server at 10.0.0.7 refused the connection")

def make(model, **kw):
    return fp.Probe(data=world.data, model=model, protected=["sex", "race"], label="hired", held=HELD,
                    features=["sex", "race", *HELD], name=model.__name__, **kw)

probe = make(fair)
'''

SUITE = HEADER + '''
def test_passes():
    probe.assert_invariant("sex", max_flip_rate=0.01)

def test_fails():
    make(biased).assert_invariant("sex", max_flip_rate=0.01)

def test_model_raises():
    make(down).assert_invariant("race", max_flip_rate=0.01)

def test_unknown_attribute():
    probe.assert_demographic_parity("age", min_ratio=0.8)

def test_bad_option():
    probe.assert_demographic_parity("race", min_ratio=1.5)

def test_gate_with_an_error_among_its_checks():
    probe.assert_all(fp.invariant("race", max_flip_rate=0.01), fp.equalized_odds("sex", max_gap=-1),
                     fp.demographic_parity("sex", min_ratio=0.8))

def test_baseline_raises():
    probe.assert_no_worse_than(down, "sex", check="equalized_odds", max_increase=0.01)
'''

YAML = '''name: yaml screener
data: {world: hiring, n: 600, seed: 2}
model: screeners:down
protected: [sex]
label: hired
features: [sex, skills_score]
checks:
  - invariance: sex
    max_flip_rate: 0.01
'''


@pytest.fixture(params=[[], ["-n", "2"]], ids=["serial", "xdist"])
def run(request, pytester: pytest.Pytester):
    def go(*args: str) -> pytest.RunResult:
        return pytester.runpytest_subprocess(*request.param, "-p", "no:cacheprovider", *args)

    return go


def _bundle(pytester):
    folder = pytester.path / "reports"
    bundle = folder / (folder / "LATEST").read_text().strip()
    assert fp.verify(bundle) == []
    return bundle, json.loads((bundle / "evidence.json").read_text())


def test_every_check_that_raises_is_an_error_entry_wherever_the_checks_are_listed(pytester, run):
    pytester.makepyfile(test_suite=SUITE, screeners="def down(df):\n    raise RuntimeError('no model here')\n")
    (pytester.path / "probe_down.yaml").write_text(YAML)
    result = run("--junitxml=junit.xml")
    result.assert_outcomes(passed=1, failed=7)
    bundle, evidence = _bundle(pytester)
    checks = evidence["checks"]
    errors = [c for c in checks if c["verdict"] == "error"]
    # Every failed test has its checks in the bundle: what pytest counts as failed, the bundle names.
    failed_tests = {c["test"] for c in checks if c["verdict"] in ("fail", "error")}
    assert len(failed_tests) == 7
    assert Counter((c["test"].split("::")[-1], c["check"], tuple(c["attributes"])) for c in errors) == Counter({
        ("test_model_raises", "invariance", ("race",)): 1,
        ("test_unknown_attribute", "demographic_parity", ("age",)): 1,
        ("test_bad_option", "demographic_parity", ("race",)): 1,
        ("test_gate_with_an_error_among_its_checks", "equalized_odds", ("sex",)): 1,
        ("test_baseline_raises", "no_worse_than", ("sex",)): 1,
        ("invariance[sex]", "invariance", ("sex",)): 1})
    by_test = {c["test"].split("::")[-1]: c for c in errors}
    model = by_test["test_model_raises"]
    assert model["error"]["type"] == "AdapterError" and "refused the connection" in model["error"]["message"]
    assert model["context"]["probe"] == "down" and model["test_outcome"] == "failed"
    assert model["bound"] == 0.01 and model["comparison"] == "<" and model["statistic"] is None
    assert by_test["test_bad_option"]["error"]["type"] == "InvalidSpec"
    assert by_test["test_baseline_raises"]["title"] == "no worse than the baseline: equalized_odds across sex"
    assert "raised RuntimeError: no model here" in by_test["invariance[sex]"]["error"]["message"]
    # assert_all ran its other two checks after the one that raised, and recorded them.
    gate_checks = [c for c in checks if c["test"].endswith("test_gate_with_an_error_among_its_checks")]
    assert sorted(c["verdict"] for c in gate_checks) == ["error", "pass", "pass"]
    assert evidence["gate"]["verdict"] == "FAIL"
    assert evidence["gate"]["reason"] == "1 check fails the build; 6 checks raised an error and reached no verdict"
    assert evidence["gate"]["counts"]["error"] == 6 and evidence["summary"]["verdicts"]["error"] == 6
    # The terminal summary: a row per errored check, and the exception under the table.
    result.stdout.fnmatch_lines([
        "test_suite.py::test_baseline_raises*no_worse_than[[]equalized_odds[]]*sex*ERROR",
        "test_suite.py::test_model_raises*invariance*race*-*-*<= 0.01*ERROR",
        "*6 error (mode detect, alpha 0.05); 6 raised an error, so no verdict:",
        "*test_suite.py::test_model_raises (invariance, race): ERROR AdapterError: *refused the connection*"])
    # The HTML report names each one, in the gate box and in its own section.
    html = (bundle / "report.html").read_text()
    assert "6 checks raised an error</strong> and reached no verdict" in html
    assert html.count("<strong>The check raised ") == 6
    assert "refused the connection" in html
    # Every export: in-toto failed tests, counterexamples.csv, the impact ratios, the CycloneDX model card.
    statement = json.loads((bundle / "attestation.intoto.json").read_text())
    assert sum("(ERROR " in name for name in statement["predicate"]["failedTests"]) == 6
    assert statement["predicate"]["result"] == "fail"
    rows = list(csv.DictReader(io.StringIO((bundle / "counterexamples.csv").read_text())))
    assert sum(1 for r in rows if r["error"]) == 6
    assert any(r["error"].startswith("AdapterError: ") and r["probe"] == "down" for r in rows)
    impact = list(csv.DictReader(io.StringIO((bundle / "impact_ratios.csv").read_text())))
    race = [r for r in impact if r["probe"] == "fair" and r["attributes"] == "race"]
    assert [r["status"][:71] for r in race] == ["not computed: the demographic-parity check of race raised InvalidSpec: "]
    if (bundle / "bom.cdx.json").exists():
        bom = json.loads((bundle / "bom.cdx.json").read_text())
        harms = [a["harms"] for c in bom["components"] for a in c["modelCard"]["considerations"]["fairnessAssessments"]]
        assert sum(h.startswith("ERROR: the check raised") for h in harms) == 6
    # The JUnit properties: one per check, an errored one saying so.
    tree = ET.parse(pytester.path / "junit.xml")
    props = {(case.get("name"), p.get("name")): p.get("value") for case in tree.iter("testcase")
             for p in case.iter("property")}
    assert props["test_model_raises", "fairprobe:invariance:race"].startswith("error AdapterError: ")
    assert props["test_bad_option", "fairprobe:demographic_parity:race"].startswith("error InvalidSpec: min_ratio")


def test_a_yaml_probe_that_cannot_be_built_makes_each_of_its_checks_an_error(pytester):
    (pytester.path / "probe_missing.yaml").write_text(YAML.replace("{world: hiring, n: 600, seed: 2}", "nowhere.csv")
                                                      + "  - demographic_parity: sex\n    min_ratio: 0.8\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=2)
    _, evidence = _bundle(pytester)
    assert [(c["test"], c["verdict"], c["error"]["type"]) for c in evidence["checks"]] == [
        ("probe_missing.yaml::demographic_parity[sex]", "error", "YamlProbeError"),
        ("probe_missing.yaml::invariance[sex]", "error", "YamlProbeError")]
    assert evidence["checks"][0]["bound"] == 0.8 and "nowhere.csv" in evidence["checks"][0]["error"]["message"]
    assert evidence["checks"][0]["context"]["probe"] == "yaml screener"


def test_a_run_whose_only_problem_is_an_errored_check_does_not_pass(pytester):
    pytester.makepyfile(test_suite=HEADER + '''
def test_passes():
    probe.assert_invariant("sex", max_flip_rate=0.01)

def test_caught():
    # The test expects the error and passes; the check still reached no verdict.
    with pytest.raises(fp.InvalidSpec):
        probe.equalized_odds("sex", max_gap=2)
''')
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    bundle, evidence = _bundle(pytester)
    assert evidence["gate"]["verdict"] == "ERROR" and evidence["gate"]["build_fails"]
    assert evidence["gate"]["reason"] == "1 check raised an error and reached no verdict"
    assert '<span class="verdict ERROR">ERROR</span>' in (bundle / "report.html").read_text()


@pytest.fixture(scope="module")
def world():
    return fp.worlds.hiring(n=800, seed=3)


def _down(df):
    raise ValueError("feature 'skills_score' out of range")


def test_outside_pytest_collecting_and_evidence_record_the_error(world, tmp_path):
    fair = fp.Probe(data=world.data, model=lambda df: (df["skills_score"] > 50).to_numpy(), protected=["sex"],
                    label="hired", features=["sex", "skills_score"], name="fair")
    down = fp.Probe(data=world.data, model=_down, protected=["sex"], label="hired", features=["sex", "skills_score"],
                    name="down")
    with fp.settings.collecting() as results:
        fair.invariance("sex", max_flip_rate=0.01)
        with pytest.raises(fp.AdapterError, match="out of range"):
            down.demographic_parity("sex", min_ratio=0.8)
        with pytest.raises(fp.InvalidSpec, match="max_gap") as raised:
            fair.assert_all(fp.equalized_odds("sex", max_gap=-0.1), fp.invariant("sex", max_flip_rate=0.5),
                            fp.demographic_parity("sex", max_gap=2))
    assert "1 other check of this run raised too" in raised.value.__notes__[0]
    assert [str(r.verdict) for r in results] == ["pass", "error", "error", "pass", "error"]
    error = results[1]
    assert isinstance(error, fp.CheckError) and error.fails_build
    assert error.summary().startswith("ERROR demographic parity across sex: AdapterError: the model under test")
    assert error.context["probe"] == "down" and len(error.context["data_sha256"]) == 64
    evidence = fp.Evidence(mode="detect")
    for r in results:
        evidence.add(r, test="script")
    bundle = evidence.write(tmp_path)
    assert fp.verify(bundle) == []
    document = json.loads((bundle / "evidence.json").read_text())
    assert document["schema_version"] == "2.1"
    assert document["gate"]["verdict"] == "ERROR"
    assert [c["verdict"] for c in document["checks"]] == ["pass", "error", "error", "pass", "error"]
    assert document["checks"][4]["error"]["message"].startswith("max_gap must be")
    summary = markdown_summary(document["checks"], "detect", 0.05)  # what a CI job summary shows
    assert summary.startswith("## fairprobe: ERROR") and summary.count("⛔ ERROR") == 3
    assert "**Checks that raised an error (no verdict)**" in summary and "out of range" in summary


def test_an_error_message_with_a_secret_is_masked_in_the_evidence(world, tmp_path):
    def leaky(df):
        raise RuntimeError("POST https://scorer:hunter2hunter2@models.example/v1 failed with key sk-proj-Zq81mXv0Lw3PbN7tRk2Yd5Hf")

    probe = fp.Probe(data=world.data, model=leaky, protected=["sex"], features=["sex", "skills_score"])
    with fp.settings.collecting() as results, pytest.raises(fp.AdapterError):
        probe.invariance("sex", max_flip_rate=0.01)
    evidence = fp.Evidence()
    evidence.add(results[0])
    text = (evidence.write(tmp_path) / "evidence.json").read_text()
    assert "hunter2hunter2" not in text and "sk-proj-Zq81" not in text and "[masked]" in text


def test_a_partitioned_pass_that_raises_is_an_error_for_each_of_its_checks(world):
    calls = []

    def flaky(df):
        calls.append(len(df))
        if len(calls) > 1:
            raise OSError("lost the worker")
        return (df["skills_score"] > 50).to_numpy()

    probe = fp.Probe(data=world.data, model=flaky, protected=["sex"], label="hired", features=["sex", "skills_score"],
                     engine="local", partition_rows=300)
    with fp.settings.collecting() as results, pytest.raises(fp.InvalidSpec, match="min_group_size") as raised:
        probe.assert_all(fp.invariant("sex", max_flip_rate=0.01), fp.demographic_parity("sex", min_ratio=0.8),
                         fp.equalized_odds("sex", max_gap=0.1, min_group_size="many"))
    # The bad option errs in planning; the pass then fails for the two planned checks: three entries, no fewer.
    assert [(str(r.check), str(r.verdict)) for r in results] == [
        ("equalized_odds", "error"), ("invariance", "error"), ("demographic_parity", "error")]
    assert "lost the worker" in results[1].message and results[1].error_type == "AdapterError"
    assert "2 other checks of this run raised too" in raised.value.__notes__[0]


def test_diff_names_a_check_that_started_to_raise():
    passing = {"test": "t", "check": "invariance", "title": "invariance of the decision to sex", "verdict": "pass",
               "statistic": 0.0, "interval": [0.0, 0.004], "bound": 0.01, "comparison": "<", "n": 600,
               "statistic_name": "flip rate", "context": {"model": {"sha256": "a" * 64}}}
    errored = fp.CheckError.of(RuntimeError("server down"), check="invariance", attributes=["sex"],
                               options={"max_flip_rate": 0.01}, context={"model": {"sha256": "a" * 64}}).to_dict()
    lines = diff_lines({"checks": [passing]}, {"checks": [{**errored, "test": "t"}]})
    assert lines == ["verdict: t [unnamed probe] invariance of the decision to sex: PASS flip rate 0 [0, 0.004] bound "
                     "<= 0.01 n=600 -> ERROR RuntimeError: server down (no verdict)"]


def test_a_bundle_of_schema_2_0_still_verifies_renders_and_diffs(world, tmp_path, capsys):
    import hashlib

    from fairprobe.cli import main
    from fairprobe.evidence import render_html

    probe = fp.Probe(data=world.data, model=lambda df: (df["skills_score"] > 50).to_numpy(), protected=["sex"],
                     features=["sex", "skills_score"], name="fair")
    evidence = fp.Evidence()
    evidence.add(probe.invariance("sex", max_flip_rate=0.05), test="t")
    old, new = evidence.write(tmp_path / "old"), evidence.write(tmp_path / "new")
    # What fairprobe wrote before schema 2.1: a callable's source-text hash, no method, no answers, no errors.
    document = json.loads((old / "evidence.json").read_text())
    document["schema_version"] = "2.0"
    for key in ("errors",):
        document["gate"].pop(key)
    document["gate"]["counts"].pop("error")
    document["checks"][0]["context"]["model"] = {"kind": "callable-source", "description": "fair", "sha256": "c" * 64}
    (old / "evidence.json").write_text(json.dumps(document))
    (old / "MANIFEST.sha256").write_text("".join(
        f"{hashlib.sha256((old / n).read_bytes()).hexdigest()}  {n}\n" for n in sorted(document["files"])))
    assert fp.verify(old) == []
    html = render_html(document)
    assert "SHA-256 of the callable&#39;s source text, which does not tell two models behind one wrapper apart" in html
    assert main(["diff", str(old), str(new)]) == 1
    out = capsys.readouterr().out
    assert "fingerprint taken another way, callable-source -> callable-references" in out
    assert main(["verify", str(old)]) == 0
