"""The pytest plugin, driven through pytester; the main runs also under pytest-xdist (-n 2)."""

import json
import subprocess
from collections import Counter
import sys
import xml.etree.ElementTree as ET

import pytest

import fairprobe as fp

HEADER = '''
import pytest
import fairprobe as fp

world = fp.worlds.hiring(n=1500, seed=4)
HELD = ["years_experience", "degree", "skills_score", "certifications"]

def fair(df):
    return (df["skills_score"] > 50).to_numpy()

def biased(df):
    return ((df["skills_score"] > 50) | (df["sex"] == "male")).to_numpy()

def make(model, n=None, **kw):
    data = world.data if n is None else world.data.iloc[:n]
    return fp.Probe(data=data, model=model, protected=["sex", "race"], label="hired", held=HELD,
                    features=["sex", "race", *HELD], **kw)
'''


@pytest.fixture
def run(pytester: pytest.Pytester):
    """Run pytest in a subprocess with the given extra arguments. Serially: one test below runs the same kinds of
    probe files (a failure, a pass, an inconclusive check, a gate of several checks, counted model queries) both
    serially and under pytest-xdist and compares the evidence, instead of every test paying for -n 2 (issue
    #21: the file took 340 s)."""

    def go(*args: str) -> pytest.RunResult:
        return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)

    return go


def bundle(pytester: pytest.Pytester, report: str = "reports") -> dict:
    folder = pytester.path / report
    latest = (folder / "LATEST").read_text().strip()
    assert fp.verify(folder / latest) == []
    return json.loads((folder / latest / "evidence.json").read_text())


def test_biased_model_fails_the_build_with_a_readable_violation(pytester, run):
    pytester.makepyfile(test_probe=HEADER + '''
probe = make(biased)

def test_sex_invariance():
    probe.assert_invariant("sex", max_flip_rate=0.01)

def test_race_invariance():
    probe.assert_invariant("race", max_flip_rate=0.01)
''')
    result = run()
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(failed=1, passed=1)
    result.stdout.fnmatch_lines([
        "*FairnessViolation: FAIL  invariance of the decision to sex (flip twins)",
        "*statistic  flip rate = 0.*",
        "*interval   [[]0.*, 0.*[]]  (one-sided 95% bounds, Clopper-Pearson)",
        "*direction  female vs male: male favoured*",
        "*worst twin pairs (5):",
        "*row *: sex: female -> male  decision no -> yes",
    ])
    result.stdout.fnmatch_lines(["*= fairprobe =*", "test*check*attribute*statistic*interval*bound*verdict",
                                 "test_probe.py::test_race_invariance*invariance*race*PASS",
                                 "test_probe.py::test_sex_invariance*invariance*sex*FAIL",
                                 "1 pass, 1 fail (mode detect, alpha 0.05)", "evidence written to *"])
    evidence = bundle(pytester)
    by_test = {c["test"]: c for c in evidence["checks"]}
    assert by_test["test_probe.py::test_sex_invariance"]["verdict"] == "fail"
    assert by_test["test_probe.py::test_sex_invariance"]["test_outcome"] == "failed"
    assert by_test["test_probe.py::test_race_invariance"]["test_outcome"] == "passed"
    assert evidence["summary"]["exit_status"] == 1


def test_fair_model_passes_and_the_evidence_says_what_was_tested(pytester, run):
    pytester.makepyfile(test_probe=HEADER + '''
probe = make(fair, seed=3)

def test_invariance():
    probe.assert_invariant(["sex", "race"], max_flip_rate=0.01)

def test_equalized_odds():
    probe.assert_equalized_odds("sex", max_gap=0.15)

def test_parity():
    probe.assert_demographic_parity("sex", min_ratio=0.8)
''')
    result = run()
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=3)
    evidence = bundle(pytester)
    assert evidence["schema_version"] == fp.evidence.SCHEMA_VERSION
    assert evidence["settings"] == {"seed": 0, "alpha": 0.05, "mode": "detect"}
    assert {c["check"] for c in evidence["checks"]} == {"invariance", "equalized_odds", "demographic_parity"}
    invariance = next(c for c in evidence["checks"] if c["check"] == "invariance")
    assert invariance["context"]["seed"] == 3  # the probe's own seed wins over the session default
    assert len(invariance["context"]["data_sha256"]) == 64
    assert invariance["context"]["model"]["kind"] == "callable-references"
    assert invariance["context"]["queries"] > 0
    assert "numpy" in evidence["environment"]["packages"]
    html = (pytester.path / "reports" / (pytester.path / "reports" / "LATEST").read_text().strip() / "report.html")
    assert "equalized odds across sex" in html.read_text()


INCONCLUSIVE = HEADER + '''
probe = make(fair, n=120)

def test_small_sample():
    probe.assert_invariant("sex", max_flip_rate=0.01)
'''


def test_inconclusive_is_reported_and_does_not_fail_in_detect_mode(pytester, run):
    pytester.makepyfile(test_probe=INCONCLUSIVE)
    result = run("-v")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.re_match_lines([r".*(test_small_sample INCONCLUSIVE|INCONCLUSIVE test_probe.py::test_small_sample)",
                                  r"test_probe.py::test_small_sample +invariance +sex .* INCONCLUSIVE",
                                  r"=+ 1 inconclusive in .*"])
    assert bundle(pytester)["checks"][0]["test_outcome"] == "inconclusive"


def test_certify_mode_fails_inconclusive_checks(pytester, run):
    pytester.makepyfile(test_probe=INCONCLUSIVE)
    result = run("--fairprobe-mode=certify")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*FairnessViolation: INCONCLUSIVE*",
                                 "*verdict    INCONCLUSIVE in certify mode: an interval straddles the bound; "
                                 "about * records would decide it"])


def test_ini_options(pytester):
    pytester.makeini("[pytest]\nfairprobe_mode = certify\nfairprobe_alpha = 0.01\nfairprobe_seed = 7\n"
                     "fairprobe_report = evidence\n")
    pytester.makepyfile(test_probe=INCONCLUSIVE)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    evidence = bundle(pytester, "evidence")
    assert evidence["settings"] == {"seed": 7, "alpha": 0.01, "mode": "certify"}
    assert evidence["checks"][0]["alpha"] == 0.01


def test_command_line_overrides_ini_and_marker_overrides_both(pytester):
    pytester.makeini("[pytest]\nfairprobe_mode = certify\n")
    pytester.makepyfile(test_probe=INCONCLUSIVE + '''
@pytest.mark.fairprobe(mode="certify")
def test_marked():
    probe.assert_invariant("race", max_flip_rate=0.01)
''')
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--fairprobe-mode=detect",
                                           "--fairprobe-seed=5", "--fairprobe-alpha=0.1",
                                           "--fairprobe-report=out")
    assert result.parseoutcomes() == {"failed": 1, "inconclusive": 1}
    result.stdout.fnmatch_lines(["*INCONCLUSIVE in certify mode*", "*FAILED test_probe.py::test_marked*"])
    evidence = bundle(pytester, "out")
    assert evidence["settings"] == {"seed": 5, "alpha": 0.1, "mode": "detect"}


def test_bad_options_are_usage_errors(pytester):
    pytester.makepyfile(test_probe="def test_x():\n    pass\n")
    result = pytester.runpytest_subprocess("--fairprobe-alpha=2")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*fairprobe: alpha must be a number between 0 and 0.5*got 2.0*"])
    result = pytester.runpytest_subprocess("--fairprobe-mode=strict")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    pytester.makeini("[pytest]\nfairprobe_seed = many\n")
    result = pytester.runpytest_subprocess()
    result.stderr.fnmatch_lines(["*ini option fairprobe_seed = 'many' is not a valid int*"])


def test_a_bad_marker_errors_that_test_only(pytester):
    pytester.makepyfile(test_probe=INCONCLUSIVE + '''
@pytest.mark.fairprobe(mode="strict")
def test_marked():
    pass
''')
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.parseoutcomes() == {"errors": 1, "inconclusive": 1}
    result.stdout.fnmatch_lines(["*InvalidSpec: @pytest.mark.fairprobe: unknown mode 'strict'*"])


def test_junit_xml_gets_one_property_per_check(pytester, run):
    pytester.makepyfile(test_probe=HEADER + '''
probe = make(biased)

def test_two_checks():
    probe.invariance("race", max_flip_rate=0.01)
    probe.assert_demographic_parity("sex", min_ratio=0.8)
''')
    result = run("--junitxml=junit.xml")
    tree = ET.parse(pytester.path / "junit.xml")
    props = {p.get("name"): p.get("value") for case in tree.iter("testcase") for p in case.iter("property")}
    assert set(props) == {"fairprobe:invariance:race", "fairprobe:demographic_parity:sex"}
    assert props["fairprobe:demographic_parity:sex"].startswith("fail statistic=")
    assert "interval=[" in props["fairprobe:invariance:race"]
    # The bundle's full manifest digest, printed and kept in the XML, pins the evidence from the CI log.
    suite = {p.get("name"): p.get("value") for p in tree.iter("testsuite") for p in p.findall("properties/property")}
    folder = pytester.path / "reports"
    digest = fp.evidence.manifest_digest(folder / (folder / "LATEST").read_text().strip())
    assert suite["fairprobe:manifest_sha256"] == digest
    result.stdout.fnmatch_lines([f"manifest sha256 {digest}"])


def test_serial_and_xdist_runs_give_the_same_evidence_in_one_bundle(pytester):
    for i in range(4):
        pytester.makepyfile(**{f"test_probe{i}": HEADER + '''
probe = make(fair)

def test_a():
    probe.assert_invariant("sex", max_flip_rate=0.05)

def test_b():
    probe.assert_demographic_parity("race", max_gap=0.3)
'''})
    pytester.makepyfile(test_biased=HEADER + '''
probe = make(biased)

def test_sex_invariance():
    probe.assert_invariant("sex", max_flip_rate=0.01)

def test_gate():
    probe.assert_all(fp.invariant("race", max_flip_rate=0.01), fp.demographic_parity("sex", min_ratio=0.8))
''', test_small=INCONCLUSIVE, test_queries=HEADER + '''
import os

def counting(df):
    with open(f"received-{os.getpid()}.txt", "a") as fh:
        fh.write(f"{len(df)}\\n")
    return (df["skills_score"] > 50).to_numpy()

first = make(counting, n=600, name="screener")

def test_one():
    first.invariance("sex", max_flip_rate=0.05)
    first.demographic_parity("race", max_gap=0.3)
''')
    seen = {}
    for how, options in (("serial", []), ("xdist", ["-n", "2"])):
        for old in pytester.path.glob("received-*.txt"):
            old.unlink()
        result = pytester.runpytest_subprocess(*options, "-p", "no:cacheprovider", "-p", "no:randomly",
                                               f"--fairprobe-report={how}")
        assert result.parseoutcomes() == {"passed": 9, "failed": 2, "inconclusive": 1}, how
        assert len(list((pytester.path / how).glob("fairprobe-*"))) == 1
        evidence = bundle(pytester, how)
        received = sum(int(line) for f in pytester.path.glob("received-*.txt") for line in f.read_text().split())
        # a check's queries are its probe's so far: the last check of the one counting probe has them all
        queries = max(c["context"]["queries"] for c in evidence["checks"] if c["test"].startswith("test_queries"))
        assert received > 0 and queries == received, how
        seen[how] = sorted((c["test"], c["check"], tuple(c["attributes"]), c["verdict"], c["statistic"],
                            tuple(c["interval"]), c["test_outcome"]) for c in evidence["checks"])
    assert len(seen["serial"]) == 14 and len({row[0] for row in seen["serial"]}) == 12
    assert seen["xdist"] == seen["serial"]
    outcomes = {row[0]: row[6] for row in seen["xdist"]}
    assert outcomes["test_biased.py::test_sex_invariance"] == outcomes["test_biased.py::test_gate"] == "failed"
    assert outcomes["test_small.py::test_small_sample"] == "inconclusive"


def test_no_evidence_option_and_no_checks_write_nothing(pytester):
    pytester.makepyfile(test_probe=HEADER + "\ndef test_x():\n    make(fair).invariance('sex', max_flip_rate=0.05)\n")
    result = pytester.runpytest_subprocess("--fairprobe-no-evidence", "--junitxml=junit.xml")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["test_probe.py::test_x*invariance*sex*PASS"])
    result.stdout.no_fnmatch_line("evidence written to*")
    assert not (pytester.path / "reports").exists()
    assert "fairprobe.record" not in (pytester.path / "junit.xml").read_text()
    pytester.makepyfile(test_probe="def test_x():\n    pass\n")
    pytester.runpytest_subprocess().assert_outcomes(passed=1)
    assert not (pytester.path / "reports").exists()


def test_import_is_light():
    code = ("import sys, fairprobe; heavy = [m for m in ('torch', 'transformers', 'pytest', 'sklearn', "
            "'requests', 'httpx', 'matplotlib') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_plugin_is_registered_by_entry_point(pytester):
    result = pytester.runpytest_subprocess("--help")
    result.stdout.fnmatch_lines(["*counterfactual-fairness probes*", "*--fairprobe-mode={detect,certify}*"])


def test_assert_all_runs_and_records_every_check_before_failing(pytester, run):
    # In certify mode the first INCONCLUSIVE assertion used to stop the test: 7 checks became 5.
    pytester.makepyfile(test_probe=HEADER + '''
probe = make(biased, n=150)

def test_gate():
    probe.assert_all(
        fp.invariant("race", max_flip_rate=0.01),
        fp.invariant("sex", max_flip_rate=0.01),
        fp.demographic_parity("race", min_ratio=0.8),
        fp.equalized_odds("sex", max_gap=0.1),
    )

def test_soft():
    with fp.soft_assertions():
        probe.assert_invariant("race", max_flip_rate=0.01)
        probe.assert_invariant("sex", max_flip_rate=0.01)
''')
    result = run("--fairprobe-mode=certify")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*FairnessViolation: * checks fail the build:*"])
    evidence = bundle(pytester)
    by_test = Counter(c["test"] for c in evidence["checks"])
    assert by_test == {"test_probe.py::test_gate": 4, "test_probe.py::test_soft": 2}
    verdicts = {(c["test"], c["check"], tuple(c["attributes"])): c["verdict"] for c in evidence["checks"]}
    assert verdicts["test_probe.py::test_gate", "invariance", ("race",)] == "inconclusive"
    assert verdicts["test_probe.py::test_gate", "invariance", ("sex",)] == "fail"


@pytest.mark.parametrize(("how", "prefix"), [("skipped", None), ("passed", None), ("failed", None),
                                            ("skipped", "ci.linux")])
def test_junit_shows_inconclusive_tests_as_asked(pytester, how, prefix):
    pytester.makepyfile(test_probe=INCONCLUSIVE + "\ndef test_plain():\n    pass\n")
    options = [] if how == "skipped" else [f"--fairprobe-junit-inconclusive={how}"]
    options += [f"--junit-prefix={prefix}"] if prefix else []  # junitxml puts it before every classname
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--junitxml=junit.xml", *options)
    assert result.parseoutcomes() == {"passed": 1, "inconclusive": 1}  # the run itself is unchanged
    assert result.ret == pytest.ExitCode.OK
    tree = ET.parse(pytester.path / "junit.xml")
    cases = {c.get("name"): c for c in tree.iter("testcase")}
    small, plain = cases["test_small_sample"], cases["test_plain"]
    assert small.get("classname") == ("ci.linux.test_probe" if prefix else "test_probe")
    assert plain.find("skipped") is None and plain.find("failure") is None
    suite = next(tree.iter("testsuite"))
    if how == "passed":
        assert small.find("skipped") is None and small.find("failure") is None
        return
    element = small.find("skipped" if how == "skipped" else "failure")
    assert element is not None and element.get("type") == "fairprobe.inconclusive"
    assert element.get("message").startswith("INCONCLUSIVE invariance of the decision to sex")
    assert suite.get("skipped" if how == "skipped" else "failures") == "1"
    assert any(p.get("name") == "fairprobe:invariance:sex" for p in small.iter("property"))


def test_github_step_summary_gets_a_markdown_table(pytester, monkeypatch):
    summary = pytester.path / "summary.md"
    summary.write_text("# earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    pytester.makepyfile(test_probe=HEADER + "\nprobe = make(biased)\n\ndef test_x():\n"
                                            "    probe.invariance('sex', max_flip_rate=0.01)\n")
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
    text = summary.read_text()
    assert text.startswith("# earlier step\n")  # appended, never overwritten
    assert "## fairprobe: FAIL" in text  # a FAIL verdict, whether or not the test asserted it
    assert "| test_probe.py::test_x | invariance | sex |" in text and "❌ FAIL" in text
    assert "manifest sha256 `" in text


def test_plugin_costs_nothing_until_a_probe_runs(pytester):
    pytester.makepyfile(test_plain="def test_x():\n    assert True\n")
    pytester.makepyfile(test_check=HEADER + "def test_x():\n    make(fair, n=200).invariance('sex', max_flip_rate=0.5)\n")
    heavy = "('pandas', 'numpy', 'scipy', 'fairprobe.evidence')"
    # -p no:randomly: pytest-randomly (in the test extra) imports numpy to reseed it, whatever the tests are.
    code = ("import sys, pytest\n"
            "pytest.main(['--help', '-p', 'no:randomly'])\n"
            "print('after help:', sorted(m for m in sys.modules if m.split('.')[0] in ('fairprobe', 'pandas')))\n"
            "pytest.main(['-q', '-p', 'no:cacheprovider', '-p', 'no:randomly', '--fairprobe-no-evidence', 'test_plain.py'])\n"
            f"loaded = lambda: sorted(m for m in {heavy} if m in sys.modules)\n"
            "print('after run:', loaded())\n"
            "pytest.main(['-q', '-p', 'no:cacheprovider', '--fairprobe-no-evidence', 'test_check.py'])\n"
            "print('after a check:', loaded())\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=pytester.path)
    assert "after help: []" in out.stdout
    assert "after run: []" in out.stdout  # the evidence package too: it is loaded by the first recorded check
    assert "after a check: ['fairprobe.evidence', 'numpy', 'pandas', 'scipy']" in out.stdout, out.stdout + out.stderr


def test_model_queries_in_the_evidence_are_the_rows_the_model_received(pytester, run):
    # Two probes share a name and a model (the proxy example's flip and CVAE probes did): each counts its own.
    pytester.makepyfile(test_probe=HEADER + '''
import os

def counting(df):
    with open(f"received-{os.getpid()}.txt", "a") as fh:
        fh.write(f"{len(df)}\\n")
    return (df["skills_score"] > 50).to_numpy()

first = make(counting, n=600, name="screener")
second = make(counting, n=900, name="screener")

def test_one():
    first.invariance("sex", max_flip_rate=0.05)
    first.invariance("race", max_flip_rate=0.05)

def test_two():
    second.invariance("sex", max_flip_rate=0.05)

def test_three():
    second.demographic_parity("race", max_gap=0.3)
''')
    run().assert_outcomes(passed=3)
    received = sum(int(line) for f in pytester.path.glob("received-*.txt") for line in f.read_text().split())
    assert received > 0
    assert bundle(pytester)["summary"]["model_queries"] == received


def test_redaction_and_counterexample_limits_from_the_command_line(pytester):
    pytester.makepyfile(test_probe=HEADER + '''
probe = make(biased)

def test_x():
    probe.invariance("sex", max_flip_rate=0.01)
    probe.invariance("race", max_flip_rate=0.01)
''')
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--fairprobe-redact=sex,race",
                                           "--fairprobe-counterexamples=2")
    result.assert_outcomes(passed=1)
    checks = bundle(pytester)["checks"]
    by_attribute = {c["attributes"][0]: c for c in checks}
    assert len(by_attribute["sex"]["counterexamples"]) == 2  # 5 without the limit
    assert by_attribute["race"]["counterexamples"] == []  # the model never reads race: nothing flipped
    for c in checks:
        for example in c["counterexamples"]:
            for column in ("sex", "race"):
                if column in example["changes"]:
                    assert all(v.startswith("h:") for v in example["changes"][column])
    evidence = (pytester.path / "reports").rglob("*.json")
    assert not any("female" in p.read_text() and "counterexamples" in p.name for p in evidence)
    bad = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--fairprobe-counterexamples=-1")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR


def test_a_probes_redaction_reaches_the_violation_text(pytester):
    pytester.makepyfile(test_probe=HEADER + '''
probe = make(biased, redact=["sex"])

def test_x():
    probe.assert_invariant("sex", max_flip_rate=0.01)
''')
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*worst twin pairs (5):*", "*row *: sex: h:* -> h:*"])
    result.stdout.no_fnmatch_line("*sex: female -> male*")


def test_a_signed_bundle_from_the_command_line_verifies_with_the_public_key(pytester):
    pytest.importorskip("cryptography", reason="signing needs the [sign] extra")
    from fairprobe.cli import main

    assert main(["keygen", str(pytester.path / "keys")]) == 0
    private, public = pytester.path / "keys" / "fairprobe-signing.key", pytester.path / "keys" / "fairprobe-signing.pub"
    pytester.makepyfile(test_probe=HEADER + "\nprobe = make(fair)\n\ndef test_x():\n"
                                            "    probe.invariance('sex', max_flip_rate=0.05)\n")
    pytester.runpytest_subprocess("-p", "no:cacheprovider", f"--fairprobe-sign={private}").assert_outcomes(passed=1)
    folder = pytester.path / "reports"
    latest = folder / (folder / "LATEST").read_text().strip()
    assert fp.verify(latest, key=public) == []


def test_an_interrupted_session_writes_an_incomplete_bundle_that_never_becomes_latest(pytester):
    pytester.makepyfile(test_probe=HEADER + '''
probe = make(fair)

def test_a():
    probe.invariance("sex", max_flip_rate=0.05)

def test_b():
    raise KeyboardInterrupt

def test_c():
    probe.invariance("race", max_flip_rate=0.05)
''')
    # in file order (pytest-randomly could put the interrupt first, before any check: then nothing is written)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    folder = pytester.path / "reports"
    assert not (folder / "LATEST").exists()
    (written,) = folder.glob("fairprobe-*-incomplete")
    problems = fp.verify(written)
    assert any(p.startswith("incomplete") for p in problems), problems
    result.stdout.fnmatch_lines(["*INCOMPLETE*"])


def test_parametrize_checks_gives_one_item_per_check(pytester):
    pytester.makepyfile(test_probe=HEADER + '''
probe = make(biased, n=400)

@fp.parametrize_checks(
    fp.invariant("sex", max_flip_rate=0.01),
    fp.invariant("race", max_flip_rate=0.05),
    fp.invariant("race", max_flip_rate=0.5),
)
def test_gate(check):
    probe.assert_all(check)
''')
    # -p no:randomly: the items in the order the checks were stated, as the lines below read them
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly", "-v", "--junitxml=junit.xml")
    ids = ["invariance[sex]", "invariance[race]", "invariance[race]#2"]
    literal = {"[": "[[]", "]": "[]]"}  # brackets are fnmatch's character classes
    result.stdout.fnmatch_lines(["*" + "".join(literal.get(c, c) for c in f"test_gate[{i}] {outcome}") + "*"
                                 for i, outcome in zip(ids, ["FAILED", "PASSED", "PASSED"])])
    result.assert_outcomes(failed=1, passed=2)
    evidence = bundle(pytester)
    assert sorted((c["test"], tuple(c["attributes"]), c["bound"], c["verdict"]) for c in evidence["checks"]) == [
        ("test_probe.py::test_gate[invariance[race]#2]", ("race",), 0.5, "pass"),
        ("test_probe.py::test_gate[invariance[race]]", ("race",), 0.05, "pass"),
        ("test_probe.py::test_gate[invariance[sex]]", ("sex",), 0.01, "fail")]
    cases = {c.get("name"): [p.get("name") for p in c.iter("property")]
             for c in ET.parse(pytester.path / "junit.xml").iter("testcase")}
    assert cases == {f"test_gate[{i}]": [f"fairprobe:invariance:{i.split('[')[1].split(']')[0]}"] for i in ids}
    # -k picks checks by kind and attribute, as it picks YAML probes' items.
    picked = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--fairprobe-no-evidence", "-k", "sex")
    picked.assert_outcomes(failed=1, deselected=2)
    with pytest.raises(fp.InvalidSpec, match=r"parametrize_checks takes checks stated with fp\.invariant"):
        fp.parametrize_checks(lambda probe: None)
    with pytest.raises(fp.InvalidSpec, match="parametrize_checks needs at least one check"):
        fp.parametrize_checks()
