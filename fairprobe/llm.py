"""Language-model backends behind one Protocol, for rewriting profiles and for LLM decision-makers.

``OpenAIChat`` speaks the chat-completions protocol of OpenAI-compatible servers (vLLM, llama.cpp
server, Ollama, hosted APIs) with the standard library's HTTP client: timeouts, retries with
exponential backoff on timeouts, connection errors, 429 and 5xx (honouring Retry-After), bounded
concurrency, and the API key read from an environment variable, never stored or written to
evidence. A transformers backend (local folder or GGUF) is still to come.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from fairprobe.errors import AdapterError, InvalidSpec

Messages = list[dict[str, str]]


@runtime_checkable
class LanguageModel(Protocol):
    """A chat model: ``chat`` returns the reply; ``describe`` what the evidence records of it."""

    def chat(self, messages: Messages, *, max_tokens: int = 512, temperature: float = 0.0,
             seed: int | None = None) -> str: ...

    def describe(self) -> dict[str, Any]: ...


@dataclass
class Usage:
    """What a backend did: requests sent, retried, failed; thread-safe counters."""

    requests: int = 0
    retries: int = 0
    failures: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def add(self, **counts: int) -> None:
        with self._lock:
            for key, value in counts.items():
                setattr(self, key, getattr(self, key) + value)


class OpenAIChat:
    """An OpenAI-compatible chat-completions server.

    Parameters
    ----------
    base_url : str
        Up to and including the API version, e.g. ``http://127.0.0.1:8000/v1``.
    model : str
        The model name the server knows.
    api_key_env : str
        Environment variable holding the API key (read at each request; never stored).
    timeout : float
        Seconds to wait for one response.
    retries : int
        Further attempts after a timeout, a connection error, 429, 5xx or a malformed response.
    backoff : float
        First wait between attempts in seconds, doubled each time (or the server's Retry-After).
    max_concurrency : int
        Requests in flight at once in :meth:`chat_many`.
    """

    def __init__(self, base_url: str, model: str, *, api_key_env: str = "OPENAI_API_KEY", timeout: float = 60.0,
                 retries: int = 3, backoff: float = 0.5, max_concurrency: int = 4) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise InvalidSpec(f"base_url must start with http:// or https://; got {base_url!r}")
        if retries < 0 or max_concurrency < 1 or timeout <= 0:
            raise InvalidSpec("retries must be >= 0, max_concurrency >= 1 and timeout > 0")
        self.base_url, self.model = base_url.rstrip("/"), model
        self.api_key_env, self.timeout, self.retries = api_key_env, timeout, retries
        self.backoff, self.max_concurrency = backoff, max_concurrency
        self.usage = Usage()

    def describe(self) -> dict[str, Any]:
        return {"backend": "openai-compatible", "base_url": self.base_url, "model": self.model}

    def _post(self, payload: dict[str, Any]) -> dict[str, Any]:
        import socket
        import urllib.error
        import urllib.request

        body = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"}
        key = os.environ.get(self.api_key_env)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        last = "no attempt"
        for attempt in range(self.retries + 1):
            self.usage.add(requests=1, retries=int(attempt > 0))
            wait = self.backoff * 2**attempt
            try:
                request = urllib.request.Request(f"{self.base_url}/chat/completions", data=body, headers=headers)
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    raw = response.read()
                try:
                    data = json.loads(raw)
                    data["choices"][0]["message"]["content"]
                    return data
                except (ValueError, KeyError, IndexError, TypeError):
                    last = f"malformed response: {raw[:200]!r}"
            except urllib.error.HTTPError as exc:
                if exc.code != 429 and exc.code < 500:
                    self.usage.add(failures=1)
                    raise AdapterError(f"{self.base_url} answered HTTP {exc.code} ({exc.reason}) for model "
                                       f"{self.model!r}; check the model name, the URL and the API key in "
                                       f"${self.api_key_env}") from None
                last = f"HTTP {exc.code}"
                retry_after = exc.headers.get("Retry-After") if exc.headers else None
                if retry_after:
                    try:
                        wait = float(retry_after)
                    except ValueError:
                        pass
            except (urllib.error.URLError, TimeoutError, socket.timeout, ConnectionError) as exc:
                last = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
            if attempt < self.retries:
                time.sleep(wait)
        self.usage.add(failures=1)
        raise AdapterError(f"{self.base_url} failed {self.retries + 1} times for model {self.model!r}; last: {last}")

    def chat(self, messages: Messages, *, max_tokens: int = 512, temperature: float = 0.0,
             seed: int | None = None) -> str:
        payload = {"model": self.model, "messages": messages, "max_tokens": max_tokens, "temperature": temperature}
        if seed is not None:
            payload["seed"] = seed
        return self._post(payload)["choices"][0]["message"]["content"]

    def chat_many(self, conversations: Sequence[Messages], **options: Any) -> list[str]:
        """Replies in the order asked, at most ``max_concurrency`` requests in flight."""
        with ThreadPoolExecutor(max_workers=self.max_concurrency) as pool:
            return list(pool.map(lambda m: self.chat(m, **options), conversations))

    def token_logprobs(self, messages: Messages, *, top: int = 20) -> dict[str, float] | None:
        """Log-probabilities of the first reply token's top candidates, or None if the server gives none."""
        data = self._post({"model": self.model, "messages": messages, "max_tokens": 1, "temperature": 0.0,
                           "logprobs": True, "top_logprobs": top})
        try:
            first = data["choices"][0]["logprobs"]["content"][0]
        except (KeyError, IndexError, TypeError):
            return None
        return {c["token"]: float(c["logprob"]) for c in first.get("top_logprobs", [])} or None
