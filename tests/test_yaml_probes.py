"""Declarative probes: probe_*.yaml files collected as pytest items, with errors that name file and line."""

import json

import pytest

MODELS = '''
def fair(df):
    return (df["skills_score"] > 50).to_numpy()

def biased(df):
    return ((df["skills_score"] > 50) | (df["sex"] == "male")).to_numpy()
'''

PROBE = '''name: hiring screener
data: {world: hiring, n: 4000, seed: 2}
model: screeners:MODEL
protected: [sex, race]
held: [years_experience, degree, skills_score, certifications]
label: hired
features: [sex, race, skills_score]
checks:
  - invariance: sex
    max_flip_rate: 0.01
  - invariance: [sex, race]
    max_flip_rate: 0.01
  - equalized_odds: sex
    max_gap: 0.1
  - demographic_parity: race
    min_ratio: 0.8
'''


@pytest.fixture(params=[[], ["-n", "2"]], ids=["serial", "xdist"])
def run(request, pytester: pytest.Pytester):
    pytester.makepyfile(screeners=MODELS)

    def go(*args: str) -> pytest.RunResult:
        return pytester.runpytest_subprocess(*request.param, "-p", "no:cacheprovider", *args)

    return go


def _evidence(pytester: pytest.Pytester) -> dict:
    folder = pytester.path / "reports"
    return json.loads((folder / (folder / "LATEST").read_text().strip() / "evidence.json").read_text())


def test_each_check_is_an_item_and_reaches_the_evidence(pytester, run):
    (pytester.path / "probe_hiring.yaml").write_text(PROBE.replace("MODEL", "fair"))
    result = run()
    result.assert_outcomes(passed=4)
    checks = _evidence(pytester)["checks"]
    assert sorted(c["test"] for c in checks) == ["probe_hiring.yaml::demographic_parity[race]",
                                                 "probe_hiring.yaml::equalized_odds[sex]",
                                                 "probe_hiring.yaml::invariance[sex]",
                                                 "probe_hiring.yaml::invariance[sex|race]"]
    assert {c["context"]["probe"] for c in checks} == {"hiring screener"}


def test_a_failing_check_names_the_file_and_line_and_reads_as_a_violation(pytester, run):
    (pytester.path / "probe_hiring.yaml").write_text(PROBE.replace("MODEL", "biased"))
    result = run()
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(failed=3, passed=1)
    result.stdout.fnmatch_lines(["*probe_hiring.yaml:9", "FAIL  invariance of the decision to sex (flip twins)",
                                 "*statistic  flip rate = 0.*"])


@pytest.mark.parametrize("edit,message", [
    (lambda t: t.replace("held:", "hold:"), r"probe_bad.yaml:5: unknown setting 'hold'; did you mean 'held'\?"),
    (lambda t: t.replace("    max_flip_rate: 0.01", "    max_flip: 0.01"),
     r"probe_bad.yaml:10: unknown option 'max_flip' for invariance; did you mean 'max_flip_rate'\?"),
    (lambda t: t.replace("model: screeners:fair\n", ""), r"probe_bad.yaml:1: the probe needs model:"),
    (lambda t: t.replace("protected: [sex, race]", "protected: [sex, race"), r"probe_bad.yaml:\d+: not valid YAML"),
    (lambda t: t.replace("  - equalized_odds: sex", "  - equalised_odds: sex"),
     r"probe_bad.yaml:13: a check names exactly one of invariance, equalized_odds, demographic_parity"),
])
def test_errors_in_the_file_name_file_and_line(pytester, edit, message):
    pytester.makepyfile(screeners=MODELS)
    (pytester.path / "probe_bad.yaml").write_text(edit(PROBE.replace("MODEL", "fair")))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--fairprobe-no-evidence")
    assert result.ret != pytest.ExitCode.OK
    result.stdout.re_match_lines([f".*{message}.*"])
    result.stdout.no_fnmatch_line("*Traceback*")


def test_errors_of_the_probe_name_the_line_of_the_setting(pytester):
    pytester.makepyfile(screeners=MODELS)
    (pytester.path / "probe_bad.yaml").write_text(PROBE.replace("MODEL", "fair").replace("[sex, race]\nheld", "[sex, rase]\nheld"))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--fairprobe-no-evidence")
    result.stdout.re_match_lines([r".*probe_bad.yaml:4: protected column 'rase' not found in data; did you mean "
                                  r"'race'\?.*"])
    (pytester.path / "probe_bad.yaml").write_text(PROBE.replace("MODEL", "nowhere"))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--fairprobe-no-evidence")
    result.stdout.re_match_lines([r".*probe_bad.yaml:3: cannot import 'screeners:nowhere'.*"])


def test_a_skops_model_file_and_a_csv_from_an_environment_variable(pytester, monkeypatch):
    import fairprobe as fp
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    world = fp.worlds.hiring(n=1500, seed=3)
    columns = ["skills_score", "years_experience"]
    (pytester.path / "models").mkdir()
    sio.dump(LogisticRegression().fit(world.data[columns], world.data["hired"]), pytester.path / "models" / "m.skops")
    (pytester.path / "data").mkdir()
    world.data.to_csv(pytester.path / "data" / "applicants.csv", index=False)
    monkeypatch.setenv("APPLICANTS", str(pytester.path / "data"))
    (pytester.path / "probe_file.yaml").write_text(
        "data: ${APPLICANTS}/applicants.csv\nmodel: models/m.skops\nprotected: sex\nlabel: hired\n"
        "checks:\n  - equalized_odds: sex\n    max_gap: 0.2\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    model = _evidence(pytester)["checks"][0]["context"]["model"]
    assert model["kind"] == "file" and model["description"] == "m.skops"
