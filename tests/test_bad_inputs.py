"""Bad inputs that once gave a silent wrong result, a hang or a raw exception (issue #17): each is now a
FairprobeError (or a clean usage error) naming what is wrong, what was given and the fix.
benchmarks/RESULTS.md ("Bad inputs (issue #17)") lists every kind tried here with its answer."""

from __future__ import annotations


import pytest

import fairprobe as fp
from fairprobe.errors import AdapterError, InvalidSpec
from fairprobe.yaml_probes import YamlProbeError, load


@pytest.fixture(scope="module")
def probe():
    world = fp.worlds.hiring(n=300, seed=0)
    return fp.Probe(data=world.data, model=lambda df: (df["skills_score"] > 50).to_numpy(), protected="sex",
                    label="hired", held=["skills_score"], features=["sex", "skills_score"])


# ----------------------------------------------------------------------------------------- YAML files

def test_a_key_given_twice_is_an_error_naming_both_lines(tmp_path):
    path = tmp_path / "probe_twice.yaml"
    path.write_text("data: a.csv\nmodel: m:f\nprotected: sex\nchecks:\n  - invariance: sex\n"
                    "    max_flip_rate: 0.01\n    max_flip_rate: 0.9\n")
    with pytest.raises(YamlProbeError, match=r"probe_twice.yaml:7: the key 'max_flip_rate' is given twice in one "
                                             r"mapping \(lines 6 and 7\)"):
        load(path)


def test_the_same_key_in_two_mappings_is_no_duplicate(tmp_path):
    path = tmp_path / "probe_ok.yaml"
    path.write_text("data: a.csv\nmodel: m:f\nprotected: sex\nchecks:\n  - invariance: sex\n"
                    "    max_flip_rate: 0.01\n  - invariance: race\n    max_flip_rate: 0.02\n")
    data, _ = load(path)
    assert [c["max_flip_rate"] for c in data["checks"]] == [0.01, 0.02]


BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
    f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
    for i in range(8))


def test_an_alias_bomb_is_refused_at_once(tmp_path):
    path = tmp_path / "probe_bomb.yaml"
    path.write_text(BOMB)  # 10**9 values once expanded, from under 1 KB
    assert path.stat().st_size < 1000
    with pytest.raises(YamlProbeError, match=r"aliases expand to more than 100,000 values"):
        load(path)


def test_a_recursive_alias_is_an_error_not_a_recursion_error(tmp_path):
    path = tmp_path / "probe_loop.yaml"
    path.write_text("data: &d [1, *d]\n")
    with pytest.raises(YamlProbeError, match=r"probe_loop.yaml:1: an alias refers to the node that contains it"):
        load(path)


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "probe_big.yaml"
    path.write_text("data: a.csv\n# " + "x" * 1_000_001 + "\n")
    with pytest.raises(YamlProbeError, match=r"over the limit of 1,000,000"):
        load(path)


def test_deep_nesting_is_an_error_not_a_recursion_error(tmp_path):
    path = tmp_path / "probe_deep.yaml"
    path.write_text("data: " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(YamlProbeError, match=r"probe_deep.yaml"):
        load(path)


# ----------------------------------------------------------------------------------------- flags

@pytest.mark.parametrize("value", ["no", "false", 0, 1, None])
def test_sequential_takes_true_or_false_only(probe, value):
    with pytest.raises(InvalidSpec, match=rf"sequential must be True or False .*got {value!r}"):
        probe.invariance("sex", max_flip_rate=0.05, sequential=value)


def test_sequential_false_runs_the_fixed_check(probe):
    assert "sequential" not in probe.invariance("sex", max_flip_rate=0.05, sequential=False).details


# ----------------------------------------------------------------------------------------- gates

@pytest.mark.parametrize("form", ["assert_all", "run"])
def test_a_gate_with_no_checks_does_not_pass(probe, form):
    with pytest.raises(InvalidSpec, match=r"need at least one check"):
        getattr(probe, form)()


# ----------------------------------------------------------------------------------------- evidence

@pytest.mark.parametrize("options,message", [
    ({"mode": "bogus"}, r"unknown mode 'bogus'"),
    ({"alpha": "x"}, r"alpha must be a number between 0 and 0.5 .*got 'x'"),
    ({"alpha": 0.7}, r"alpha must be a number between 0 and 0.5"),
    ({"seed": "x"}, r"seed must be a whole number"),
    ({"redact_text": "no"}, r"redact_text must be True or False"),
])
def test_evidence_settings_are_checked_when_made(options, message):
    with pytest.raises(InvalidSpec, match=message):
        fp.Evidence(**options)


@pytest.mark.parametrize("record,given", [({"a": 1}, "verdict None"), ({"verdict": "maybe"}, "verdict 'maybe'"),
                                          (5, "got int"), (None, "got NoneType")])
def test_evidence_add_takes_results_only(record, given):
    with pytest.raises(InvalidSpec, match=rf"Evidence.add takes a check's result .*{given}"):
        fp.Evidence().add(record)


def test_the_gate_never_passes_a_verdict_it_does_not_know():
    from fairprobe.evidence.gate import gate

    result = gate([{"verdict": "pass", "fails_build": False}, {"verdict": "maybe", "fails_build": False}],
                  mode="detect")
    assert result["verdict"] == "ERROR" and result["build_fails"]
    assert "verdicts the gate does not know count as errors: 'maybe'" in result["reason"]
    assert gate([{"verdict": "pass", "fails_build": False}], mode="detect")["verdict"] == "PASS"


# ----------------------------------------------------------------------------------------- models

def test_a_threshold_on_a_model_that_returns_decisions_is_an_error():
    world = fp.worlds.hiring(n=200, seed=0)
    probe = fp.Probe(data=world.data, model=lambda df: (df["skills_score"] > 50).to_numpy(), protected="sex",
                     label="hired", features=["sex", "skills_score"], threshold=0.7)
    with pytest.raises(AdapterError, match=r"returned decisions \(booleans\), but threshold=0.7 was given"):
        probe.invariance("sex", max_flip_rate=0.05)


def test_a_threshold_on_scores_still_decides():
    world = fp.worlds.hiring(n=200, seed=0)
    probe = fp.Probe(data=world.data, model=lambda df: (df["skills_score"] / 100).to_numpy(), protected="sex",
                     label="hired", features=["sex", "skills_score"], threshold=0.7)
    assert probe.invariance("sex", max_flip_rate=0.05).verdict is not None


class _Chat:
    def chat(self, messages, **options):
        return "yes"

    def describe(self):
        return {"model": "stub"}


@pytest.mark.parametrize("backend,template,message", [
    (_Chat(), "Should we invite this candidate? Answer yes or no.", r"needs \{text\}"),
    (_Chat(), 42, r"template= is the prompt"),
    (_Chat(), "{text", r"not a valid format string"),
    (None, "{text}", r"backend must be a chat model .* got NoneType"),
    (_Chat(), None, r"LLMDecisionAdapter needs the prompt"),
])
def test_a_language_model_prompt_must_show_the_record(backend, template, message):
    from fairprobe.adapters import LLMDecisionAdapter

    with pytest.raises(AdapterError, match=message):
        LLMDecisionAdapter(backend, template)
    with pytest.raises(AdapterError, match=r"backend must be a chat model"):
        LLMDecisionAdapter(None)
    assert LLMDecisionAdapter(_Chat(), "{text} Invite? yes or no").template


# ----------------------------------------------------------------------------------------- keygen

@pytest.mark.parametrize("name", ["../x", "sub/x", "..", ".hidden", ""])
def test_keygen_writes_only_inside_its_folder(tmp_path, name):
    pytest.importorskip("cryptography")
    folder = tmp_path / "keys"
    with pytest.raises(InvalidSpec, match=r"the key name is a file name stem inside the key folder"):
        fp.evidence.keygen(folder, name=name)
    assert sorted(p.name for p in tmp_path.rglob("*")) == []


def test_keygen_on_the_command_line_refuses_a_name_with_a_folder(tmp_path, capsys):
    pytest.importorskip("cryptography")
    from fairprobe.cli import main

    assert main(["keygen", str(tmp_path / "keys"), "--name", "../x"]) != 0
    assert "the key name is a file name stem" in capsys.readouterr().err
    assert not (tmp_path / "x.key").exists()


# ----------------------------------------------------------------------------------------- pytest evidence

COLLECTING = '''
import fairprobe as fp

def test_collects():
    world = fp.worlds.hiring(n=300, seed=0)
    probe = fp.Probe(data=world.data, model=lambda df: (df["skills_score"] > 50).to_numpy(), protected="sex",
                     label="hired", held=["skills_score"], features=["sex", "skills_score"])
    with fp.settings.collecting() as results:
        probe.invariance("sex", max_flip_rate=0.05)
        probe.demographic_parity("sex", min_ratio=0.5)
    assert len(results) == 2


def test_gate_without_checks():
    world = fp.worlds.hiring(n=300, seed=0)
    probe = fp.Probe(data=world.data, model=lambda df: (df["skills_score"] > 50).to_numpy(), protected="sex")
    probe.assert_all()
'''


def test_checks_inside_collecting_reach_the_pytest_evidence_and_an_empty_gate_fails(pytester):
    import json

    pytester.makepyfile(test_collecting=COLLECTING)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly")
    result.assert_outcomes(passed=1, failed=1)  # assert_all() with no checks fails its test
    result.stdout.fnmatch_lines(["*InvalidSpec: run and assert_all need at least one check*"])
    folder = pytester.path / "reports"
    document = json.loads((folder / (folder / "LATEST").read_text().strip() / "evidence.json").read_text())
    assert sorted(c["check"] for c in document["checks"]) == ["demographic_parity", "invariance"]
    assert all(c["test"].endswith("test_collects") for c in document["checks"])


# ----------------------------------------------------------------------------------------- raw exceptions

@pytest.mark.parametrize("check,options,message", [
    ("invariance", {"max_flip_rate": 0.05, "max_fliprate": 0.1}, r"invariance has no option 'max_fliprate'; did you "
                                                                  r"mean 'max_flip_rate'\? \(options: max_flip_rate,"),
    ("demographic_parity", {"min_ratio": 0.8, "maxgap": 0.1}, r"demographic_parity has no option 'maxgap'; did you "
                                                               r"mean 'max_gap'\?"),
    ("equalized_odds", {"max_gap": 0.1, "colour": 1}, r"equalized_odds has no option 'colour' \(options: max_gap"),
])
def test_an_unknown_option_to_a_check_names_the_valid_ones(probe, check, options, message):
    with pytest.raises(InvalidSpec, match=message):
        getattr(probe, check)("sex", **options)


@pytest.mark.parametrize("options,message", [
    ({"retries": "3"}, r"retries must be a whole number of at least 0; got '3'"),
    ({"retries": -1}, r"retries must be a whole number of at least 0"),
    ({"timeout": "x"}, r"timeout must be a number in \(0, 86400\]; got 'x'"),
    ({"max_concurrency": 0}, r"max_concurrency must be a whole number of at least 1"),
    ({"backoff": None}, r"backoff must be a number of seconds"),
])
def test_a_chat_backend_checks_its_options(options, message):
    from fairprobe.llm import OpenAIChat

    with pytest.raises(InvalidSpec, match=message):
        OpenAIChat("http://localhost:1", "m", **options)


@pytest.mark.parametrize("document", [{"schema": "fairprobe-evidence", "checks": 5},
                                      {"schema": "fairprobe-evidence", "checks": [5]},
                                      {"schema": "fairprobe-evidence", "checks": [{"check": "invariance",
                                                                                   "attributes": 5}], "gate": 3}],
                         ids=["checks-a-number", "a-check-a-number", "gate-a-number"])
def test_diff_of_a_malformed_evidence_file_is_a_usage_error(tmp_path, capsys, document):
    import json

    from fairprobe.cli import main

    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "evidence.json").write_text(json.dumps(document))
    assert main(["diff", str(tmp_path / "b"), str(tmp_path / "b")]) == 2
    assert "evidence.json is malformed" in capsys.readouterr().err


def test_fit_checks_where_it_will_write_before_it_fits(tmp_path, capsys):
    from fairprobe.cli import main

    (tmp_path / "a-file").write_text("")
    code = main(["fit", str(tmp_path / "nowhere.csv"), "--protected", "sex", "--out",
                 str(tmp_path / "a-file" / "g.safetensors")])
    assert code == 2
    err = capsys.readouterr().err
    assert "cannot save the CVAE to" in err and "cannot be written" in err and "nowhere.csv" not in err


def test_an_unwritable_cache_folder_warns_and_keeps_the_fit(tmp_path):
    pytest.importorskip("torch")
    from fairprobe.twins.cvae import CVAE
    from fairprobe.twins.cvae.cache import fit_cached

    (tmp_path / "a-file").write_text("")
    world = fp.worlds.hiring(n=300, seed=0)
    data = world.data[["sex", "degree", "skills_score"]]
    cvae = CVAE(epochs=1, max_steps=2, seed=0)
    with pytest.warns(fp.FairprobeWarning, match=r"not kept in the cache folder .*cannot be written"):
        fitted = fit_cached(cvae, data, data_sha256="0" * 64, protected=["sex"], held=["degree"], exclude=[],
                            cache_dir=tmp_path / "a-file" / "cache")
    assert fitted.fitted


# ----------------------------------------------------------------------------------------- YAML errors' lines

YAML_HEAD = ("name: s\ndata: {world: hiring, n: 400, seed: 2}\nmodel: screeners:fair\nprotected: [sex]\n"
             "held: [skills_score]\nlabel: hired\nfeatures: [sex, skills_score]\n")
YAML_CHECK = "checks:\n  - invariance: sex\n    max_flip_rate: 0.05\n"
# file -> (its text, the line and message its error must show); the bad setting is on line 8 unless told
YAML_CASES = {
    **{f"probe_set_{key}": (YAML_HEAD + f"{key}: {value}\n" + YAML_CHECK, rf":8: .*{message}")
       for key, value, message in [
           ("alpha", "x", "alpha must be a number"), ("mode", "bogus", "unknown mode 'bogus'"),
           ("seed", "x", "seed must be a whole number"), ("threshold", "x", "threshold must be a finite number"),
           ("min_group_size", "x", "min_group_size"), ("max_records", "x", "max_records"),
           ("twins", "bogus", "unknown twin generator 'bogus'"), ("text", "5", "text"), ("bands", "5", "bands"),
           ("causes", "5", "causes"), ("derived", "5", "derived: maps each column"), ("trust", "5", "trust:")]},
    "probe_check_options": (YAML_HEAD + "checks:\n  - invariance: sex\n    max_flip_rate: 0.05\n"
                            "    sequential: 'false'\n  - invariance: sex\n    max_flip_rate: x\n",
                            r":11: sequential must be True or False .*got 'false'"),
    "probe_check_bound": (YAML_HEAD + "checks:\n  - invariance: sex\n    max_flip_rate: x\n",
                          r":10: max_flip_rate must be a number in \(0, 1\]; got 'x'"),
    "probe_data_list": ("data: [1, 2]\nmodel: screeners:fair\nprotected: [sex]\n" + YAML_CHECK,
                        r":1: data: must name a CSV or Parquet file .*got list \[1, 2\]"),
    "probe_world_n": ("name: s\ndata:\n  world: hiring\n  n: x\nmodel: screeners:fair\nprotected: [sex]\n" + YAML_CHECK,
                      r":4: data: .*n"),
    "probe_model_list": ("data: {world: hiring, n: 300}\nmodel: [1]\nprotected: [sex]\n" + YAML_CHECK,
                         r":2: model: must name a model file .*got list"),
}


def test_yaml_errors_point_at_the_offending_setting(pytester):
    pytester.makepyfile(screeners="def fair(df):\n    return (df['skills_score'] > 50).to_numpy()\n")
    for name, (text, _) in YAML_CASES.items():
        (pytester.path / f"{name}.yaml").write_text(text)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly", "--fairprobe-no-evidence")
    result.stdout.no_fnmatch_line("*Traceback*")
    for name, (_, expected) in YAML_CASES.items():
        result.stdout.re_match_lines([rf".*{name}.yaml{expected}.*"])


def test_a_check_that_names_no_attribute_is_a_collection_error_naming_its_line(pytester):
    (pytester.path / "probe_attr.yaml").write_text("data: {world: hiring, n: 300}\nmodel: m:f\nprotected: [sex]\n"
                                                   "checks:\n  - invariance: 5\n    max_flip_rate: 0.05\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--fairprobe-no-evidence")
    result.stdout.re_match_lines([r".*probe_attr.yaml:5: invariance: names a protected attribute .*got 5"])
    result.stdout.no_fnmatch_line("*TypeError*")


@pytest.mark.parametrize("call,message", [
    (lambda p: p.invariance(5, max_flip_rate=0.1), r"invariance attribute must be a column name or a list"),
    (lambda p: p.invariance("sex"), r"invariance needs max_flip_rate="),
    (lambda p: fp.verify(5), r"verify takes the path of an evidence bundle .*got int"),
    (lambda p: fp.settings.using(cache_dir=5).__enter__(), r"cache_dir must be a folder's path or None; got int"),
    (lambda p: fp.Evidence(command=5), r"command= is the command line as a list of strings"),
    (lambda p: fp.adapters.load_model(5), r"load_model takes a model file's path"),
])
def test_more_wrong_types_are_errors_naming_them(probe, call, message):
    with pytest.raises(InvalidSpec, match=message):
        call(probe)


def test_a_probe_redaction_of_the_wrong_type_is_an_error():
    world = fp.worlds.hiring(n=200, seed=0)
    with pytest.raises(InvalidSpec, match=r"redact must be a column name or a list of column names; got int"):
        fp.Probe(data=world.data, model=lambda df: (df["skills_score"] > 50).to_numpy(), protected="sex", redact=5)


def test_a_command_given_as_one_string_is_split_so_its_secrets_are_masked():
    command = fp.Evidence(command="pytest --db-pass=hunter2 -k fair").to_dict()["command"]
    assert "hunter2" not in " ".join(command) and command[0] == "pytest" and command[-1] == "fair"
