"""Render a demo evidence bundle's report in headless Chromium: screenshots at 1,000 and 1,400 px and a PDF.

    python scripts/render_report.py OUT_DIR [--incomplete] [--bundle BUNDLE] [--chromium PATH]

Builds a bundle from the embedded hiring world (a biased and a fair screener, an intersectional
parity check, a small inconclusive probe, text twins of rendered profiles with names redacted), then
runs Chromium headless on its report.html:

- ``report-1000.png`` and ``report-1400.png``: the top of the page (gate, probes, summary table);
- ``report-1000-full.png``: the whole page at 1,000 px;
- ``report.pdf`` (A4, the print stylesheet), and ``report-pdf-N.png`` pages when pdftoppm is present;
- ``report-pdf.txt`` when pdftotext is present, to check that collapsed sections print.

``--bundle BUNDLE`` renders an existing bundle instead (e.g. the one ``fairprobe run probes`` wrote).

Chromium on Debian: ``apt-get install -y chromium`` (poppler-utils for the PDF pages).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--hide-scrollbars", "--force-device-scale-factor=1"]


def demo_bundle(out: Path, *, incomplete: bool = False) -> Path:
    """A bundle with the checks a real suite produces: FAIL, PASS, INCONCLUSIVE, ERROR, a comparison with a
    baseline, warnings, text twins."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    import fairprobe as fp

    warnings.simplefilter("ignore")
    world = fp.worlds.hiring(n=1500, seed=4)
    held = ["years_experience", "degree", "skills_score", "certifications"]
    data = world.data

    def biased(df):
        return ((df["skills_score"] > 50) | (df["sex"] == "male")).to_numpy()

    numeric = data.assign(degree=data["degree"].astype("category").cat.codes)
    fair_model = LogisticRegression(max_iter=1000).fit(numeric[["years_experience", "skills_score", "certifications"]],
                                                       numeric["hired"])
    evidence = fp.Evidence(seed=0, alpha=0.05, mode="detect", root=".", redact=["first_name", "last_name"],
                           redact_text=True, max_counterexamples=3, prepared_for="Model Risk Committee",
                           command=["pytest", "probes", "--fairprobe-report", "reports",
                                    "--api-key=sk-proj-DEMOdemoDEMOdemo0123456789"],
                           collected=10, ran=5 if incomplete else 10, incomplete=incomplete)
    test = "probes/test_biased_screener.py::test_sex_invariance_of_the_biased_screener_with_a_long_test_name"
    biased_probe = fp.Probe(data=data, model=biased, protected=["sex", "race"], label="hired", held=held,
                            features=["sex", "race", *held], name="biased screener")
    for result in (biased_probe.invariance("sex", max_flip_rate=0.01),
                   biased_probe.equalized_odds("sex", max_gap=0.05)):
        evidence.add(result.with_context(model_version="2024.06-rc1"), test=test)
    evidence.set_outcome(test, "xfailed")
    def fair(df):
        return (df["skills_score"] > 50).to_numpy()

    fair_probe = fp.Probe(data=data, model=fair, protected=["sex", "race"], label="hired", held=held,
                          features=["sex", "race", *held], name="fair screener")
    test = "probes/test_fair_screener.py::test_fair_screener[sex x race]"
    for result in (fair_probe.invariance(["sex", "race"], max_flip_rate=0.01),
                   fair_probe.demographic_parity(["sex", "race"], min_ratio=0.8),
                   fair_probe.equalized_odds("sex", max_gap=0.1)):
        evidence.add(result.with_context(model_version="3.1.0"), test=test)
    evidence.set_outcome(test, "passed")
    test = "probes/test_fair_screener.py::test_no_worse_than_production"
    evidence.add(fair_probe.compare(biased, "sex", check="invariance", max_increase=0.01), test=test)
    with fp.settings.collecting() as raised:  # a check that raises is an ERROR entry (issue #15)
        try:
            fair_probe.demographic_parity("race", min_ratio=1.25)
        except fp.InvalidSpec:
            pass
    evidence.add(raised[0], test=test)
    evidence.set_outcome(test, "failed")
    small = fp.Probe(data=numeric.iloc[:120], model=fair_model, protected="sex", label="hired",
                     held=["years_experience", "skills_score", "certifications"], name="small sample (vacuous)")
    evidence.add(small.invariance("sex", max_flip_rate=0.01), test="probes/test_fair_screener.py::test_small")
    evidence.set_outcome("probes/test_fair_screener.py::test_small", "inconclusive")
    texts = world.data.iloc[:300].assign(profile=world.profiles()[:300])
    words = {"he": 1.0, "his": 1.0, "she": -1.0, "her": -1.0}

    def bag_of_words(texts):
        return np.array([sum(words.get(w.strip(".,").lower(), 0.0) for w in t.split()) > 0 for t in texts])

    text_probe = fp.Probe(data=texts, model=bag_of_words, protected=["sex"], label="hired", text="profile",
                          twins="rewrite", name="resume screener")
    evidence.add(text_probe.invariance("sex", max_flip_rate=0.01),
                 test="probes/test_resume_screener.py::test_bag_of_words_screener_sex_invariance")
    evidence.set_outcome("probes/test_resume_screener.py::test_bag_of_words_screener_sex_invariance", "failed")
    return evidence.write(out / "reports")


def shoot(chromium: str, html: Path, out: Path) -> list[Path]:
    """Screenshots and a PDF of ``html`` into ``out``; the paths written."""
    written = []
    url = html.resolve().as_uri()
    jobs = [("report-1000.png", "1000,1400"), ("report-1400.png", "1400,1400"), ("report-1000-full.png", "1000,16000")]
    for name, size in jobs:
        with tempfile.TemporaryDirectory() as profile:
            subprocess.run([chromium, *FLAGS, f"--user-data-dir={profile}", f"--window-size={size}",
                            f"--screenshot={out / name}", url], check=True, capture_output=True, timeout=120)
        written.append(out / name)
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([chromium, *FLAGS, f"--user-data-dir={profile}", "--no-pdf-header-footer",
                        f"--print-to-pdf={out / 'report.pdf'}", url], check=True, capture_output=True, timeout=120)
    written.append(out / "report.pdf")
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-png", "-r", "60", str(out / "report.pdf"), str(out / "report-pdf")], check=True)
        written += sorted(out.glob("report-pdf-*.png"))
    if shutil.which("pdftotext"):
        subprocess.run(["pdftotext", "-layout", str(out / "report.pdf"), str(out / "report-pdf.txt")], check=True)
        written.append(out / "report-pdf.txt")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", help="folder for the bundle, the screenshots and the PDF")
    parser.add_argument("--incomplete", action="store_true", help="render an interrupted session's bundle")
    parser.add_argument("--bundle", help="render this existing bundle instead of the demo")
    parser.add_argument("--chromium", default=shutil.which("chromium") or shutil.which("chromium-browser"),
                        help="the Chromium binary (default: chromium on PATH)")
    args = parser.parse_args(argv)
    if not args.chromium:
        parser.error("no chromium found: apt-get install -y chromium, or pass --chromium PATH")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    bundle = Path(args.bundle) if args.bundle else demo_bundle(out, incomplete=args.incomplete)
    print(f"bundle {bundle}")
    for path in shoot(args.chromium, bundle / "report.html", out):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
