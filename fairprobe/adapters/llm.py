"""A language model as the model under test: it reads each record through a prompt and says yes or no."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import pandas as pd

from fairprobe.adapters.base import Adapter, text_column
from fairprobe.validation import check_count, check_threshold


class LLMDecisionAdapter(Adapter):
    """A language model as the model under test: it reads each record through a prompt and says yes or no.

    The score is P(yes) / (P(yes) + P(no)) from the first reply token's log-probabilities when the
    backend gives them; otherwise the share of "yes" among ``samples`` sampled answers (the method
    used is counted in ``methods``). ``template`` is formatted with ``text=`` (the text column, in a
    text probe) or with the row's columns, e.g. ``"{text} Should we invite this candidate to an
    interview? Answer yes or no."``.
    """

    def __init__(self, backend: Any, template: str, *, yes: str = "yes", no: str = "no", samples: int = 5,
                 threshold: float = 0.5, texts: bool = True, batch_size: int = 64) -> None:
        super().__init__(batch_size=batch_size)
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

    def _answer(self, prompt: str) -> float:
        messages = [{"role": "user", "content": prompt}]
        logprobs = self.backend.token_logprobs(messages) if hasattr(self.backend, "token_logprobs") else None
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
        score = np.array([self._answer(p) for p in prompts])
        return score >= self.threshold, score


