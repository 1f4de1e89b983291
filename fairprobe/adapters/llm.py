"""A language model as the model under test: it reads each record through a prompt and says yes or no."""

from __future__ import annotations

import hashlib
import string
from typing import Any

import numpy as np
import pandas as pd

from fairprobe.adapters.base import Adapter, text_column
from fairprobe.errors import AdapterError, given
from fairprobe.validation import check_count, check_threshold


def _check_backend(backend: Any) -> None:
    missing = [m for m in ("chat", "describe") if not callable(getattr(backend, m, None))]
    if missing:
        raise AdapterError(f"LLMDecisionAdapter's backend must be a chat model with chat() and describe() (e.g. "
                           f"fairprobe.llm.OpenAIChat(...) or SmolLM2()); got {given(backend)}, which lacks "
                           f"{' and '.join(missing)}()")


def _check_template(template: Any, texts: bool) -> str:
    """The prompt must be a str.format template that names ``{text}`` (a text probe) or at least one column."""
    if template is None:
        raise AdapterError("LLMDecisionAdapter needs the prompt: LLMDecisionAdapter(backend, '{text} Should we invite "
                           "this candidate to an interview? Answer yes or no.')")
    if not isinstance(template, str):
        raise AdapterError(f"template= is the prompt, a string with {{text}} where the record goes; got "
                           f"{type(template).__name__}")
    try:
        fields = {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}
    except ValueError as exc:
        raise AdapterError(f"the prompt template is not a valid format string ({exc}); write {{{{ and }}}} for "
                           f"literal braces; got {template[:80]!r}") from None
    if texts and "text" not in {f.split(".")[0].split("[")[0] for f in fields}:
        raise AdapterError("the prompt template never shows the model the record: it needs {text} where the text "
                           "goes, e.g. '{text} Should we invite this candidate to an interview? Answer yes or no.'; "
                           f"got {template[:80]!r}")
    if not texts and not fields:
        raise AdapterError("the prompt template never shows the model the record: name the row's columns in it, "
                           f"e.g. '{{skills_score}}'; got {template[:80]!r}")
    return template


class LLMDecisionAdapter(Adapter):
    """A language model as the model under test: it reads each record through a prompt and says yes or no.

    The score is P(yes) / (P(yes) + P(no)) from the first reply token's log-probabilities when the
    backend gives them; otherwise the share of "yes" among ``samples`` sampled answers (the method
    used is counted in ``methods``). ``template`` is formatted with ``text=`` (the text column, in a
    text probe) or with the row's columns, e.g. ``"{text} Should we invite this candidate to an
    interview? Answer yes or no."``.
    """

    def __init__(self, backend: Any, template: str | None = None, *, yes: str = "yes", no: str = "no", samples: int = 5,
                 threshold: float = 0.5, texts: bool = True, batch_size: int = 64) -> None:
        super().__init__(batch_size=batch_size)
        _check_backend(backend)
        template = _check_template(template, texts)
        if not isinstance(yes, str) or not isinstance(no, str) or not yes.strip() or not no.strip():
            raise AdapterError(f"yes= and no= are the answer words, e.g. yes='yes', no='no'; got {yes!r}, {no!r}")
        self.backend, self.template, self.yes, self.no = backend, template, yes.lower(), no.lower()
        self.samples, self.texts = check_count("samples", samples), texts
        self.threshold = check_threshold(threshold)
        self.methods: dict[str, int] = {"logprobs": 0, "sampled": 0}
        self.name = f"LLM screener ({backend.describe().get('model', 'model')})"

    def fingerprint(self) -> dict[str, str]:
        payload = repr((self.backend.describe(), self.template, self.yes, self.no, self.samples)).encode()
        return {"kind": "llm-decision", "description": f"{self.name}: {self.template[:120]}",
                "sha256": hashlib.sha256(payload).hexdigest(),
                "method": "SHA-256 of the backend's description (model name, settings), the prompt and the answer "
                          "words; not of the language model's weights"}

    def _answer(self, prompt: str, logprobs: dict[str, float] | None = None) -> float:
        messages = [{"role": "user", "content": prompt}]
        if logprobs is None and hasattr(self.backend, "token_logprobs"):
            logprobs = self.backend.token_logprobs(messages)
        if logprobs:
            p_yes = sum(np.exp(v) for k, v in logprobs.items() if k.strip().lower() == self.yes)
            p_no = sum(np.exp(v) for k, v in logprobs.items() if k.strip().lower() == self.no)
            if p_yes + p_no > 0:
                self.methods["logprobs"] += 1
                return float(p_yes / (p_yes + p_no))
        answers = [self.backend.chat(messages, max_tokens=3, temperature=1.0, seed=i) for i in range(self.samples)]
        self.methods["sampled"] += 1
        return float(np.mean([a.strip().lower().startswith(self.yes) for a in answers]))

    def _predict_batch(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray | None]:
        if self.texts:
            prompts = [self.template.format(text=t) for t in text_column(frame)]
        else:
            prompts = [self.template.format(**{str(k): v for k, v in row.items()}) for row in frame.to_dict(orient="records")]
        if hasattr(self.backend, "token_logprobs_many"):
            # One forward pass per batch of prompts (the backend's batching); each prompt read as it is alone.
            many = self.backend.token_logprobs_many([[{"role": "user", "content": p}] for p in prompts])
            score = np.array([self._answer(p, logprobs or {}) for p, logprobs in zip(prompts, many)])
        else:
            score = np.array([self._answer(p) for p in prompts])
        return score >= self.threshold, score


