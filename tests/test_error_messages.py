"""Error messages, clarity sweep (issue #17): for a table of bad calls across the Python API, the command line,
pytest's options, ini and marker, and YAML probe files, the message

(a) names what is wrong (the option, argument, column or file),
(b) quotes the value given (its repr, or the text the user typed), and
(c) says how to fix it: a hint such as "use", "pass", "give", "one of", "did you mean", "e.g.", "must",
    "expected", "needs", "takes", "such as", "install" or argparse's usage line.

benchmarks/RESULTS.md ("Error messages, clarity sweep (issue #17)") lists every case with its message."""

from __future__ import annotations

import contextlib
import io
import re

import pytest

import fairprobe as fp
from fairprobe.cli import main
from fairprobe.llm import OpenAIChat

HINT = re.compile(r"\b(use|pass|give|one of|did you mean|must|expected|needs?|takes|such as|install|choose|put|"
                  r"add)\b|\be\.g\.|^usage: ", re.M)


class _Chat:
    def chat(self, messages, **options):
        return "yes"

    def describe(self):
        return {"model": "stub"}


@pytest.fixture(scope="module")
def world():
    return fp.worlds.hiring(n=200, seed=0)


def _probe(world, **options):
    settings = dict(data=world.data, model=lambda df: (df["skills_score"] > 50).to_numpy(), protected="sex",
                    label="hired", features=["sex", "skills_score"])
    return fp.Probe(**{**settings, **options})


# id -> (the bad call, what the message must name, the value it must quote)
PYTHON = {
    "Probe: unknown keyword": (lambda w: _probe(w, protectd="sex"), "protectd", "'protectd'"),
    "Probe: misspelt protected column": (lambda w: _probe(w, protected="gender"), "protected", "'gender'"),
    "Probe: protected of the wrong type": (lambda w: _probe(w, protected=5), "protected", "5"),
    "Probe: data of the wrong type": (lambda w: _probe(w, data=5), "data", "5"),
    "Probe: data file missing": (lambda w: _probe(w, data="nowhere.csv"), "data file", "'nowhere.csv'"),
    "Probe: model of the wrong type": (lambda w: _probe(w, model=5), "model", "5"),
    "Probe: misspelt label": (lambda w: _probe(w, label="hire"), "label", "'hire'"),
    "Probe: misspelt feature": (lambda w: _probe(w, features=["sexx", "skills_score"]), "feature", "'sexx'"),
    "Probe: unknown held column": (lambda w: _probe(w, held=["skill"]), "held", "'skill'"),
    "Probe: unknown twin generator": (lambda w: _probe(w, twins="bogus"), "twin generator", "'bogus'"),
    "Probe: threshold not a number": (lambda w: _probe(w, threshold="x"), "threshold", "'x'"),
    "Probe: min_group_size 0": (lambda w: _probe(w, min_group_size=0), "min_group_size", "0"),
    "Probe: redact of the wrong type": (lambda w: _probe(w, redact=5), "redact", "5"),
    "Probe: a third positional argument": (lambda w: fp.Probe(w.data, None, "sex"), "positional", "'sex'"),
    "check: bound out of range": (lambda w: _probe(w).invariance("sex", max_flip_rate=2), "max_flip_rate", "2"),
    "check: attribute not protected": (lambda w: _probe(w).invariance("gender", max_flip_rate=0.1), "protected",
                                       "'gender'"),
    "check: unknown option": (lambda w: _probe(w).equalized_odds("sex", max_gap=0.1, colour=1), "option", "'colour'"),
    "check: misspelt option": (lambda w: _probe(w).invariance("sex", max_flip_rate=0.05, max_fliprate=0.1),
                               "option", "'max_fliprate'"),
    "check: sequential='no'": (lambda w: _probe(w).invariance("sex", max_flip_rate=0.05, sequential="no"),
                               "sequential", "'no'"),
    "check: min_ratio above 1": (lambda w: _probe(w).demographic_parity("sex", min_ratio=1.5), "min_ratio", "1.5"),
    "check: max_gap a string": (lambda w: _probe(w).equalized_odds("sex", max_gap="x"), "max_gap", "'x'"),
    "Evidence: unknown mode": (lambda w: fp.Evidence(mode="bogus"), "mode", "'bogus'"),
    "Evidence: alpha out of range": (lambda w: fp.Evidence(alpha=0.7), "alpha", "0.7"),
    "Evidence.add: not a result": (lambda w: fp.Evidence().add(5), "Evidence.add", "5"),
    "settings: alpha out of range": (lambda w: fp.settings.using(alpha=2).__enter__(), "alpha", "2"),
    "settings: seed a string": (lambda w: fp.settings.using(seed="x").__enter__(), "seed", "'x'"),
    "settings: unknown setting": (lambda w: fp.settings.using(alpah=0.1).__enter__(), "setting", "'alpah'"),
    "verify: not a path": (lambda w: fp.verify(5), "verify", "5"),
    "load_model: file missing": (lambda w: fp.adapters.load_model("nowhere.pkl"), "model file", "'nowhere.pkl'"),
    "load_model: not a path": (lambda w: fp.adapters.load_model(5), "load_model", "5"),
    "OpenAIChat: retries a string": (lambda w: OpenAIChat("http://localhost:1", "m", retries="3"),
                                     "retries", "'3'"),
    "MLflowEndpoint: timeout 0": (lambda w: fp.adapters.MLflowEndpoint("http://h", timeout=0), "timeout", "0"),
    "MLflowEndpoint: url not an address": (lambda w: fp.adapters.MLflowEndpoint("localhost"), "url", "'localhost'"),
    "LLMDecisionAdapter: no backend": (lambda w: fp.adapters.LLMDecisionAdapter(None), "backend", "None"),
    "LLMDecisionAdapter: prompt without {text}": (lambda w: fp.adapters.LLMDecisionAdapter(_Chat(), "Invite?"),
                                                  "{text}", "'Invite?'"),
    "keygen: name with a folder": (lambda w: fp.evidence.keygen("keys", name="../x"), "key name", "'../x'"),
    "worlds.hiring: unknown keyword": (lambda w: fp.worlds.hiring(bogus=1), "option", "'bogus'"),
    "worlds.hiring: n negative": (lambda w: fp.worlds.hiring(n=-5), "n must", "-5"),
    "worlds.hiring: seed a string": (lambda w: fp.worlds.hiring(seed="x"), "seed", "'x'"),
    "World.counterfactual: unknown value": (lambda w: w.counterfactual(sex="men"), "sex", "'men'"),
}


def _python_message(world, call):
    with pytest.raises(fp.FairprobeError) as raised:
        call(world)
    return str(raised.value)


# id -> (arguments of `fairprobe`, what the message must name, the value it must quote)
CLI = {
    "verify: no such folder": (["verify", "{tmp}/nowhere"], "nowhere", "{tmp}/nowhere"),
    "verify: not a bundle": (["verify", "{tmp}"], "MANIFEST.sha256", "{tmp}"),
    "verify: --expect not a digest": (["verify", "{bundle}", "--expect", "xyz"], "--expect", "'xyz'"),
    "verify: --key-sha256 not a digest": (["verify", "{bundle}", "--key-sha256", "abc"], "--key-sha256", "'abc'"),
    "diff: second bundle missing": (["diff", "{bundle}", "{tmp}/nowhere"], "evidence.json", "{tmp}/nowhere"),
    "fit: unknown protected column": (["fit", "{tmp}/d.csv", "--protected", "gender", "--out", "{tmp}/g"],
                                      "columns not in data", "'gender'"),
    "fit: epochs not a number": (["fit", "{tmp}/d.csv", "--protected", "sex", "--out", "{tmp}/g", "--epochs", "x"],
                                 "--epochs", "'x'"),
    "fit: data file missing": (["fit", "{tmp}/none.csv", "--protected", "sex", "--out", "{tmp}/g"],
                               "data file", "none.csv"),
    "diff: not a bundle": (["diff", "{tmp}", "{tmp}"], "evidence.json", "{tmp}"),
    "keygen: name with a folder": (["keygen", "{tmp}/keys", "--name", "../x"], "key name", "'../x'"),
    "unknown command": (["verfy"], "command", "'verfy'"),
}


def _cli_message(arguments):
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        try:
            code = main(arguments)
        except SystemExit as exit_:
            code = exit_.code
    assert code not in (0, None)
    return (err.getvalue() + out.getvalue()).strip()


# YAML probe files: file -> (its text, what the message must name, the value it must quote)
YAML_HEAD = ("name: s\ndata: {world: hiring, n: 300, seed: 2}\nmodel: screeners:fair\nprotected: [sex]\n"
             "label: hired\nfeatures: [sex, skills_score]\n")
YAML_CHECK = "checks:\n  - invariance: sex\n    max_flip_rate: 0.05\n"
YAML = {
    "probe_alpha": (YAML_HEAD + "alpha: x\n" + YAML_CHECK, "alpha", "'x'"),
    "probe_mode": (YAML_HEAD + "mode: strict\n" + YAML_CHECK, "mode", "'strict'"),
    "probe_twins": (YAML_HEAD + "twins: bogus\n" + YAML_CHECK, "twin generator", "'bogus'"),
    "probe_unknown_key": (YAML_HEAD + "hold: [skills_score]\n" + YAML_CHECK, "setting", "'hold'"),
    "probe_protected": (YAML_HEAD.replace("[sex]", "[sexx]") + YAML_CHECK, "protected", "'sexx'"),
    "probe_check_kind": (YAML_HEAD + "checks:\n  - invariant: sex\n    max_flip_rate: 0.05\n", "check", "'invariant'"),
    "probe_check_option": (YAML_HEAD + "checks:\n  - invariance: sex\n    max_fliprate: 0.05\n", "option",
                           "'max_fliprate'"),
    "probe_bound": (YAML_HEAD + "checks:\n  - invariance: sex\n    max_flip_rate: lots\n", "max_flip_rate", "'lots'"),
    "probe_sequential": (YAML_HEAD + "checks:\n  - invariance: sex\n    max_flip_rate: 0.05\n    sequential: 'no'\n",
                         "sequential", "'no'"),
    "probe_data_list": ("data: [1, 2]\nmodel: screeners:fair\nprotected: [sex]\n" + YAML_CHECK, "data", "[1, 2]"),
}

# pytest's command line, ini file and marker: id -> (arguments, ini text, test file, name, value)
PYTEST = {
    "--fairprobe-mode": (["--fairprobe-mode=strict"], "", None, "--fairprobe-mode", "'strict'"),
    "--fairprobe-alpha": (["--fairprobe-alpha=x"], "", None, "--fairprobe-alpha", "'x'"),
    "ini fairprobe_seed": ([], "[pytest]\nfairprobe_seed = x\n", None, "fairprobe_seed", "'x'"),
    "marker mode": ([], "", "import pytest\n\n@pytest.mark.fairprobe(mode='strict')\ndef test_x():\n    pass\n",
                    "mode", "'strict'"),
}


def assert_clear(message, name, value):
    """The sweep's rule: the message names what is wrong, quotes the value given and says how to fix it."""
    assert name in message, f"does not name {name!r}: {message}"
    assert value in message, f"does not quote the value {value!r}: {message}"
    assert HINT.search(message), f"says nothing of how to fix it: {message}"


@pytest.mark.parametrize("case", list(PYTHON))
def test_python_api_errors_are_clear(world, case):
    call, name, value = PYTHON[case]
    assert_clear(_python_message(world, call), name, value)


@pytest.mark.parametrize("case", list(CLI))
def test_command_line_errors_are_clear(world, tmp_path, monkeypatch, case):
    monkeypatch.chdir(tmp_path)
    world.data.to_csv(tmp_path / "d.csv", index=False)
    bundle = str(fp.Evidence().write(tmp_path / "reports"))
    arguments, name, value = CLI[case]
    message = _cli_message([a.replace("{tmp}", str(tmp_path)).replace("{bundle}", bundle) for a in arguments])
    assert_clear(message, name, value.replace("{tmp}", str(tmp_path)))


def _yaml_messages(pytester):
    pytester.makepyfile(screeners="def fair(df):\n    return (df['skills_score'] > 50).to_numpy()\n")
    for name, (text, _, _) in YAML.items():
        (pytester.path / f"{name}.yaml").write_text(text)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly", "--fairprobe-no-evidence",
                                           "--continue-on-collection-errors")
    output = "\n".join(result.outlines)
    assert "Traceback" not in output
    messages = {}
    for name in YAML:
        found = re.findall(rf"{name}\.yaml:\d+: (.+)", output)
        assert found, f"{name}.yaml: no error shown\n{output[-3000:]}"
        messages[name] = found[0]
    return messages


def test_yaml_probe_errors_are_clear(pytester):
    messages = _yaml_messages(pytester)
    unclear = []
    for name, (_, what, value) in YAML.items():
        try:
            assert_clear(messages[name], what, value)
        except AssertionError as error:
            unclear.append(f"{name}: {error}")
    assert not unclear, "\n".join(unclear)


def _pytest_message(pytester, arguments, ini, test):
    if ini:
        pytester.makeini(ini)
    pytester.makepyfile(test_x=test or "def test_x():\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly", "--fairprobe-no-evidence",
                                           *arguments)
    assert result.ret != 0
    # argparse's "pytest: error: ...", pytest's "ERROR: ...", or the error line of the test that raised ("E   ...")
    lines = [line for line in result.outlines + result.errlines
             if re.match(r"E +\S|ERROR: ", line) or re.search(r": error: ", line)]
    assert lines, "\n".join(result.outlines + result.errlines)
    usage = [line for line in result.errlines if line.startswith("usage: ")]
    return "\n".join(usage + lines)


@pytest.mark.parametrize("case", list(PYTEST))
def test_pytest_option_ini_and_marker_errors_are_clear(pytester, case):
    arguments, ini, test, name, value = PYTEST[case]
    assert_clear(_pytest_message(pytester, arguments, ini, test), name, value)


def test_the_rule_finds_an_unclear_message():
    """The checker can fail: a message that omits any of the three parts is caught."""
    for message in ("got 'x'; use a number", "alpha must be a number", "alpha is wrong: 'x'"):
        with pytest.raises(AssertionError):
            assert_clear(message, "alpha", "'x'")
    assert_clear("alpha must be a number between 0 and 0.5 (e.g. 0.05); got 'x'", "alpha", "'x'")
