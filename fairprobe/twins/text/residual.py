"""Residual signals: signs of the original group left in a twin.

:func:`residual_signals` finds the ones on the lists (women's colleges, HBCUs, identity-based
associations, Greek-letter organisations, scholarships, pageant titles: package data with
provenance). :class:`ResidualAudit` needs no list: a classifier trained to tell the groups apart
from the originals, with names, pronouns and the swap lexicon's words masked, is applied to the
twins; the share of twins it still reads as their original group, its AUC, and the words that
drive it show what the rewriter left behind.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from functools import lru_cache

from fairprobe.twins.text.signals import Person, protected_phrases
from fairprobe.twins.text.similarity import mask_signals


@lru_cache(maxsize=4096)
def _signals_in(text: str) -> tuple[tuple[int, int, dict], ...]:
    """Listed residual signals and, by rule, proper names that hold a gendered word ("Women in Finance",
    "Convent Girls' High School"), each once, listed ones first."""
    listed, named = protected_phrases(text)
    found = list(listed)
    taken = [(a, b) for a, b, _ in found]
    for start, end, sex in named:
        if not any(a < end and start < b for a, b in taken):
            found.append((start, end, {"phrase": text[start:end], "attribute": "sex", "group": sex,
                                       "kind": "proper name with a gendered word", "source": "rule"}))
    return tuple(sorted(found, key=lambda f: f[0]))


def residual_signals(text: str, old: Person, new: Person, *, original: str | None = None) -> list[tuple[str, dict]]:
    """Residual signals in a twin's ``text`` of the group its original had and the twin does not.

    A women's college is residual in the male twin of a woman, not in her race twin; so is a proper
    name that holds a gendered word ("Women's Leadership Forum"), which the rewriter never swaps, and
    a surname that signals sex (Kaur) kept by a sex twin. With ``original`` (whose scan is cached),
    the signals are the original's that the twin still holds at the same text: a faithful twin adds none.

    Examples
    --------
    >>> old, new = Person("Emily", "Walsh", "female", "white"), Person("Greg", "Walsh", "male", "white")
    >>> [(p, r["kind"]) for p, r in residual_signals("Greg studied at Wellesley College; SWE member.", old, new)]
    [('Wellesley College', "women's college")]
    >>> [p for p, _ in residual_signals("Greg chaired the Women in Finance network.", old, new)]
    ['Women in Finance']
    """
    found = _signals_in(text if original is None else original)
    out = []
    for start, end, row in found:
        phrase = (text if original is None else original)[start:end]
        if original is not None and phrase not in text:
            continue
        attribute, group = row["attribute"], row["group"]
        old_value, new_value = (old.sex, new.sex) if attribute == "sex" else (old.race, new.race)
        if old_value and new_value and old_value != new_value and group == old_value:
            out.append((phrase, row))
    return out


class ResidualAudit:
    """Does a twin still read as its original group? A masked bag-of-words classifier says.

    Parameters
    ----------
    mask : {"lexicon", "names"}
        What is hidden from the classifier: names, pronouns, titles and every word of the swap
        lexicon ("lexicon"), or names and pronouns only ("names", the state before the lexicon).
    seed : int
        Fold assignment of the cross-validated AUC.
    top : int
        Words to name for each group.
    confidence : float
        A twin "reads as its original group" when the classifier gives that group at least this
        probability (a text with no signal left sits near the base rate, not above it).

    Examples
    --------
    >>> texts = ["NAME captained the women's team."] * 20 + ["NAME captained the men's team."] * 20
    >>> people = [Person("", "", "female" if i < 20 else "male", "") for i in range(40)]
    >>> audit = ResidualAudit(mask="names").fit(texts, [p.sex for p in people], people)
    >>> round(audit.auc_, 2), audit.top_words_["female"][0]
    (1.0, "women's")
    """

    def __init__(self, *, mask: Literal["lexicon", "names"] = "lexicon", seed: int = 0, top: int = 15,
                 folds: int = 5, confidence: float = 0.75) -> None:
        self.mask, self.seed, self.top, self.folds, self.confidence = mask, seed, top, folds, confidence

    def _masked(self, texts: Sequence[str], people: Sequence[Person]) -> list[str]:
        return [mask_signals(t, [p], lexicon=self.mask == "lexicon") for t, p in zip(texts, people)]

    def fit(self, texts: Sequence[str], labels: Sequence[str], people: Sequence[Person]) -> ResidualAudit:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.metrics import roc_auc_score
        from sklearn.model_selection import StratifiedKFold, cross_val_predict

        y = np.asarray(labels, dtype=object)
        self.vectorizer_ = TfidfVectorizer(token_pattern=r"(?u)\b[a-zA-Z][\w'’]*", min_df=2, sublinear_tf=True,
                                           stop_words=["name", "pron", "title", "word", "namemail", "age"])
        x = self.vectorizer_.fit_transform(self._masked(texts, people))
        self.model_ = LogisticRegression(C=1.0, max_iter=2000)
        counts = np.unique(y, return_counts=True)[1]
        folds = int(min(self.folds, counts.min()))
        self.classes_ = np.unique(y)
        if folds >= 2:
            cv = StratifiedKFold(folds, shuffle=True, random_state=self.seed)
            proba = cross_val_predict(self.model_, x, y, cv=cv, method="predict_proba")
            self.auc_ = float(roc_auc_score(y == self.classes_[1], proba[:, 1]) if len(self.classes_) == 2
                              else roc_auc_score(y, proba, multi_class="ovr"))
        else:
            self.auc_ = float("nan")
        self.model_.fit(x, y)
        words = np.asarray(self.vectorizer_.get_feature_names_out())
        coef = self.model_.coef_
        if len(self.classes_) == 2:
            order = np.argsort(coef[0])
            self.top_words_ = {str(self.classes_[0]): [str(w) for w in words[order[:self.top]] if True],
                               str(self.classes_[1]): [str(w) for w in words[order[::-1][:self.top]]]}
        else:
            self.top_words_ = {str(c): [str(w) for w in words[np.argsort(coef[k])[::-1][:self.top]]]
                               for k, c in enumerate(self.classes_)}
        return self

    def proba(self, texts: Sequence[str], people: Sequence[Person]) -> np.ndarray:
        """The fitted classifier's probability of each group (columns in ``classes_``) for each text."""
        return self.model_.predict_proba(self.vectorizer_.transform(self._masked(texts, people)))

    def run(self, originals: Sequence[str], twins: Sequence[str], olds: Sequence[Person], news: Sequence[Person],
            *, attributes: Sequence[str], sex_col: str | None) -> dict[str, Any]:
        """Fit on the distinct originals and report, per attribute the twins change, the share of twins read as
        their original group, the AUC and the top words of each group."""
        out: dict[str, Any] = {"mask": self.mask}
        for attribute in attributes:
            kind = "sex" if attribute == sex_col else "race"
            group = (lambda p: p.sex) if kind == "sex" else (lambda p: p.race)
            changed = [j for j, (o, n) in enumerate(zip(olds, news)) if group(o) != group(n)]
            seen: dict[str, int] = {}
            for j, text in enumerate(originals):
                seen.setdefault(text, j)
            firsts = list(seen.values())
            labels = [group(olds[j]) for j in firsts]
            if len(set(labels)) < 2 or not changed:
                out[attribute] = {"skipped": "fewer than two groups among the originals, or no twin changes it"}
                continue
            self.fit([originals[j] for j in firsts], labels, [olds[j] for j in firsts])
            proba = self.proba([twins[j] for j in changed], [news[j] for j in changed])
            column = {c: k for k, c in enumerate(self.classes_)}
            read = [proba[k, column[group(olds[j])]] >= self.confidence for k, j in enumerate(changed)]
            out[attribute] = {"share_read_as_original": float(np.mean(read)), "confidence": self.confidence,
                              "twins": len(changed), "auc": self.auc_, "top_words": self.top_words_,
                              "originals": len(firsts)}
        return out


__all__ = ["ResidualAudit", "residual_signals"]
