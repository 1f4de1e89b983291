"""Language-model backends shared by the tests and the benchmarks (benchmarks/ puts tests/ on sys.path for this)."""

from __future__ import annotations

from typing import Any


class OneAtATime:
    """A chat backend without ``token_logprobs_many``: an LLM screener over it asks one prompt per call, the path
    before batching (issue #18), against which the batched answers are compared."""

    def __init__(self, chat: Any) -> None:
        self.inner = chat

    def describe(self) -> dict[str, Any]:
        return self.inner.describe()

    def token_logprobs(self, messages: list[dict[str, str]], *, top: int = 20) -> dict[str, float]:
        return self.inner.token_logprobs(messages, top=top)

    def chat(self, messages: list[dict[str, str]], **options: Any) -> str:
        return self.inner.chat(messages, **options)
