"""Resume screeners that read text profiles rendered from the hiring world.

The same applicants, written as prose; twins rewrite names and pronouns (twins="rewrite") and are
validated before they reach the model. A bag-of-words screener trained on biased past decisions
picks up names and pronouns: caught (strict xfail). A screener that extracts the facts (experience,
degree, score, certifications) and ignores the rest passes.

Resumes as people write them (fairprobe.twins.text.samples: headers, contact blocks, bios, cover
letters; no name columns, so the names are found in the text): a screener that marks down the word
"women's" (the pattern reported in 2018 of a large company's experimental resume screener) is caught
because the twin of "captained the women's chess team" captained the men's (strict xfail).
"""

import re

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

import fairprobe as fp
from fairprobe.twins.text.samples import labelled_resumes

train_world = fp.worlds.hiring(n=4000, seed=11, direct_bias=1.5)
train_texts, train_labels = train_world.profiles().tolist(), train_world.data["hired"]
audit_world = fp.worlds.hiring(n=1500, seed=12, direct_bias=1.5)
audit = audit_world.data.assign(profile=audit_world.profiles())

DEGREES = {"no university degree": 0, "a bachelor's degree": 1, "a master's degree": 2, "a doctorate": 3}


def facts(texts):
    """Experience, degree, assessment score and certifications, read from each profile."""
    rows = []
    for text in texts:
        years = float(re.search(r"with (\d+) years", text).group(1))
        degree = next(v for k, v in DEGREES.items() if k in text)
        score = float(re.search(r"scored ([\d.]+)", text).group(1))
        certs = re.search(r"has (\d+) professional", text)
        rows.append([years, degree, score, float(certs.group(1)) if certs else 0.0])
    return np.array(rows)


bag_of_words = make_pipeline(TfidfVectorizer(min_df=2), LogisticRegression(max_iter=2000, C=10.0))
bag_of_words.fit(train_texts, train_labels)
fact_reader = make_pipeline(FunctionTransformer(facts), LogisticRegression(max_iter=2000))
fact_reader.fit(train_texts, train_labels)


def probe(model):
    return fp.Probe(data=audit, model=model, protected=["sex", "race"], label="hired", text="profile",
                    twins="rewrite", name="resume screener")


@pytest.mark.xfail(raises=fp.FairnessViolation, strict=True, reason="the words of the profile carry sex")
def test_bag_of_words_screener_sex_invariance():
    probe(bag_of_words).assert_invariant("sex", max_flip_rate=0.01)


def test_fact_reading_screener_is_invariant():
    probe(fact_reader).assert_invariant(["sex", "race"], max_flip_rate=0.01, max_score_change=0.001)


resumes = labelled_resumes(240, seed=21)[["profile", "sex", "race", "hired"]]


def womens_screener(texts):
    """Experience counts; the word "women's" (a women's team, a women's society) costs 0.4."""
    return np.array([0.45 + 0.02 * min(int(re.search(r"(\d+) years", t).group(1)), 15)
                     - 0.4 * ("women's" in t.lower()) for t in texts])


@pytest.mark.xfail(raises=fp.FairnessViolation, strict=True, reason="the screener marks down \"women's\"")
def test_womens_screener_sex_invariance():
    fp.Probe(data=resumes, model=womens_screener, protected=["sex", "race"], label="hired", text="profile",
             twins="rewrite", name="women's screener").assert_invariant("sex", max_flip_rate=0.01)
