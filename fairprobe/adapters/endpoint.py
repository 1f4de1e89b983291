"""The transport shared by the endpoint adapters (:mod:`fairprobe.adapters.http`): batching over HTTP,
retries, credentials and the endpoint's identity.

Batches of rows go out as JSON through httpx (``pip install 'fairprobe[http]'``), ``max_concurrency``
requests in flight at once, counted and cached like a local model (:class:`~.base.Adapter`). A request
that times out, cannot connect, or is answered 429 or 5xx is retried up to ``retries`` times after
``backoff`` seconds, doubled each time, or after the server's Retry-After (at most ``max_backoff``). An
answer that is not JSON or holds the wrong number of predictions is retried too (a proxy that cut it
short); any other 4xx fails at once. An answer larger than ``max_response_bytes`` (default 64 MiB) is
refused as it arrives, before it fills memory.

An endpoint whose scoring route failed with every attempt used (no answer, no connection, 429 or 5xx
throughout) is not asked again by the same adapter: every later request, from any test sharing the
probe, fails at once with the first failure's message, and requests in flight on other threads stop
at their next attempt (issue #17: a server that never answered cost every test its full timeout x
retries). ``close()`` forgets the failure.

Credentials come from an environment variable (``token_env``), read at each request and never kept in
the adapter's repr, fingerprint or the evidence; the URL recorded drops ``user:password@`` and masks
query values named like secrets (``?api_key=***``). The functions that hold the URL, the token or the
rows sent keep them in :class:`~fairprobe.redact.Secret` wrappers, so a failing test's traceback (pytest
prints every frame's arguments, and its locals with ``-l``) and the JUnit XML never show them.
"""

from __future__ import annotations

import email.utils
import hashlib
import itertools
import json
import os
import re
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import numpy as np
import pandas as pd

from fairprobe.adapters.base import Adapter, outputs_to_predictions
from fairprobe.errors import AdapterError, InvalidSpec, MissingDependency, shorten
from fairprobe.llm import Usage
from fairprobe.redact import Secret
from fairprobe.validation import check_count, check_threshold

MASK = "***"
MAX_RESPONSE_BYTES = 64 * 2**20
_SECRET_NAME = re.compile(r"key|token|secret|sig|password|passwd|pwd|auth|credential|code|session", re.IGNORECASE)


class _BadAnswer(ValueError):
    """An answer that may come from a transient fault (not JSON, cut short): retried."""


class _TooLarge(Exception):
    """An answer over ``max_response_bytes``: refused, not retried."""


def redact_url(url: str) -> str:
    """The URL as recorded: no ``user:password@``, query values named like secrets masked, no fragment.

    Examples
    --------
    >>> redact_url("https://bob:pw@models.example:8443/score?api_key=abc&model=a#top")
    'https://models.example:8443/score?api_key=***&model=a'
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    netloc = f"{host}:{parts.port}" if parts.port else host
    query = urlencode([(k, MASK if _SECRET_NAME.search(k) else v)
                       for k, v in parse_qsl(parts.query, keep_blank_values=True)], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def mask_url(url: str) -> str:
    """A URL as given, for a message: userinfo and secret-named query values masked (it may not parse)."""
    from fairprobe.redact import mask_secrets

    return mask_secrets(str(url))


def _parse_url(url: Any) -> tuple[str, str, bool] | None:
    """(the URL without fragment or trailing slash, the URL as recorded, whether it carries userinfo), or None
    when it is no http(s) address with a host."""
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return None
    try:
        parts = urlsplit(url)
        if not parts.hostname:
            return None
        _ = parts.port  # raises ValueError on a malformed port
    except ValueError:
        return None
    full = urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), parts.query, ""))
    return full, redact_url(full), bool(parts.username or parts.password)


def _with_path(url: str, path: str) -> str:
    """``url`` with its path replaced (its query, which may carry a key, kept)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def _json_values(series: pd.Series) -> list[Any]:
    """A column as JSON values: Python scalars, missing values as null, times as ISO 8601."""
    if series.isna().any():
        series = series.astype(object).where(series.notna(), None)
    elif series.dtype.kind == "M":
        return [v.isoformat() for v in series]
    return series.tolist()


def _rows(values: Any, n: int, what: str = "predictions") -> Any:
    count = len(values) if isinstance(values, (list, np.ndarray)) else None
    if count != n:
        got = "no list of" if count is None else str(count)
        raise _BadAnswer(f"the endpoint returned {got} {what} for {n} rows")
    return values


def _pick(values: Any, key: str | None, what: str) -> Any:
    """A named output from a dict, or from a list of dicts (a DataFrame's records); the only one if unnamed."""
    sample = values[0] if isinstance(values, list) and values and isinstance(values[0], dict) else values
    if not isinstance(sample, dict):
        return values
    if key is None:
        if len(sample) != 1:
            raise AdapterError(f"{what} returned several outputs ({shorten(sample)}); pass output= naming the one "
                               "that holds the score or the decision")
        key = next(iter(sample))
    if key not in sample:
        raise AdapterError(f"{what} returned no output {key!r}; its outputs are {shorten(sample)}")
    if isinstance(values, dict):
        return values[key]
    try:
        return [row[key] for row in values]
    except (KeyError, TypeError):
        raise _BadAnswer(f"some predictions lack the output {key!r}") from None


def _retry_after(response: Any, default: float, cap: float) -> float:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), else ``default``."""
    value = response.headers.get("Retry-After")
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = email.utils.parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return default
    return min(max(seconds, 0.0), cap)


def _seconds(name: str, value: Any, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or (positive and value == 0) \
            or not np.isfinite(value):
        least = "above" if positive else "of at least"
        raise InvalidSpec(f"{name} must be a number of seconds {least} 0; got {value!r}")
    return float(value)


class EndpointAdapter(Adapter):
    """What the endpoint adapters share: the HTTP client, retries, credentials and the endpoint's identity.

    Options (keyword-only, on every endpoint adapter): ``threshold``, ``positive_label`` (read as by
    :class:`~fairprobe.adapters.CallableAdapter`), ``columns`` (the columns the model reads, in order),
    ``batch_size`` (rows per request, default 1000), ``max_concurrency`` (requests in flight, default 4),
    ``timeout`` (seconds per request, default 30), ``retries`` (further attempts, default 3), ``backoff``
    and ``max_backoff`` (seconds), ``token_env`` (the environment variable holding the token, sent as
    ``{auth_header}: {auth_scheme} {token}``, default ``Authorization: Bearer ...``), ``headers`` (other
    fixed headers; none that carries a credential), ``max_response_bytes`` (the largest answer read,
    default 64 MiB), ``name``. ``url`` may be a :class:`~fairprobe.redact.Secret` (``fp.Secret(os.environ[
    "MODEL_URL"])``), so that the test's own frame does not show it either.
    """

    kind = "http-endpoint"
    protocol = "JSON over HTTP"

    def __init__(self, url: str | Secret, *, threshold: float | None = None, positive_label: Any = None,
                 columns: Sequence[str] | None = None, batch_size: int = 1000, max_concurrency: int = 4,
                 timeout: float = 30.0, retries: int = 3, backoff: float = 0.5, max_backoff: float = 30.0,
                 token_env: str | None = None, auth_header: str = "Authorization", auth_scheme: str | None = "Bearer",
                 headers: dict[str, str] | None = None, name: str | None = None,
                 max_response_bytes: int = MAX_RESPONSE_BYTES) -> None:
        url = url if isinstance(url, Secret) else Secret(url)  # this frame shows no credential if it raises
        super().__init__(batch_size=batch_size)
        parsed = _parse_url(url.reveal())
        if parsed is None:
            raise InvalidSpec(f"url must be an http:// or https:// address with a host; got {mask_url(url.reveal())!r}")
        self._url, self.url, has_userinfo = parsed
        self.threshold = check_threshold(threshold)
        self.positive_label = positive_label
        if columns is not None:
            if isinstance(columns, str) or not all(isinstance(c, str) for c in columns) or not columns:
                raise InvalidSpec(f"columns must be a list of column names; got {columns!r}")
            self.feature_names = list(columns)
        self.max_concurrency = check_count("max_concurrency", max_concurrency)
        self.retries = check_count("retries", retries, minimum=0)
        self.timeout = _seconds("timeout", timeout, positive=True)
        self.backoff, self.max_backoff = _seconds("backoff", backoff), _seconds("max_backoff", max_backoff)
        if token_env is not None and not (isinstance(token_env, str) and token_env):
            raise InvalidSpec(f"token_env must name an environment variable (e.g. 'MODEL_TOKEN'); got {token_env!r}")
        if token_env and has_userinfo:
            raise InvalidSpec(f"{self.url} carries credentials in the URL (user:password@) and token_env= names "
                              "another; give them one way, preferably token_env=")
        self.token_env, self.auth_header, self.auth_scheme = token_env, auth_header, auth_scheme
        self.headers = dict(headers or {})
        secret = [h for h in self.headers if h.lower() == auth_header.lower()
                  or re.search(r"authorization|api.?key|token|secret|cookie|password", h, re.IGNORECASE)]
        if secret:
            raise InvalidSpec(f"headers {shorten(secret)} carry credentials, which would be kept on the adapter; "
                              f"put the value in an environment variable and pass token_env='NAME' (with "
                              f"auth_header={secret[0]!r} and auth_scheme=None for a bare key)")
        self.max_response_bytes = check_count("max_response_bytes", max_response_bytes)
        self.name = str(name or f"{self.protocol} endpoint {self.url}")
        self.usage = Usage()
        self._failed: str | None = None  # the failure that ends this endpoint's session (see the module docstring)
        self._client: Any = None
        self._lock = threading.Lock()
        self._identity: dict[str, Any] | None = None
        self._ids = itertools.count(1)
        self._gave_up = threading.Event()

    @property
    def decision_threshold(self) -> float | None:
        return 0.5 if self.threshold is None else self.threshold

    def __repr__(self) -> str:
        token = f", token_env={self.token_env!r}" if self.token_env else ""
        return (f"{type(self).__name__}({self.url!r}, batch_size={self.batch_size}, "
                f"max_concurrency={self.max_concurrency}{token})")

    def __getstate__(self) -> dict[str, Any]:
        # Sent to workers (a distributed engine) without the client, its lock and the counters' lock.
        state = {k: v for k, v in self.__dict__.items() if k not in ("_client", "_lock", "_ids", "usage", "_gave_up")}
        state["usage"] = (self.usage.requests, self.usage.retries, self.usage.failures)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        usage = state.pop("usage")
        self.__dict__.update(state)
        self.usage = Usage(*usage)
        self._client, self._lock, self._ids = None, threading.Lock(), itertools.count(1)
        self._gave_up = threading.Event()
        if self._failed is not None:
            self._gave_up.set()

    @property
    def failed(self) -> str | None:
        """Why this endpoint is not asked again (the first failure that used every attempt), or None."""
        return self._failed

    def close(self) -> None:
        """Close the HTTP connections (a later request opens new ones) and forget a failure: the next request
        tries the endpoint again."""
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
            self._failed = None
            self._gave_up.clear()

    def __enter__(self) -> EndpointAdapter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ transport

    def _http(self) -> Any:
        with self._lock:
            if self._client is None:
                try:
                    import httpx
                except ImportError as exc:
                    raise MissingDependency("httpx", "http", f"{type(self).__name__}") from exc
                limits = httpx.Limits(max_connections=self.max_concurrency,
                                      max_keepalive_connections=self.max_concurrency)
                self._client = httpx.Client(timeout=self.timeout, limits=limits)
            return self._client

    def _request_headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json", **self.headers}
        if self.token_env:
            token = os.environ.get(self.token_env)
            if not token:
                raise AdapterError(f"{self.url} needs the token in the environment variable {self.token_env} "
                                   "(token_env=), which is not set or empty; export it before the run")
            headers[self.auth_header] = f"{self.auth_scheme} {token}" if self.auth_scheme else token
        return headers

    def _scrub(self, text: str) -> str:
        """Server and library messages without the secrets of the URL or the token."""
        parts = urlsplit(self._url)
        secrets = [v for k, v in parse_qsl(parts.query) if _SECRET_NAME.search(k)]
        secrets += [s for s in (parts.password, parts.username, os.environ.get(self.token_env or "")) if s]
        text = text.replace(self._url, self.url)
        for secret in sorted(set(secrets), key=len, reverse=True):
            text = text.replace(secret, MASK)
        return text

    def _send(self, method: str, url: str | Secret, body: Any, read: Callable[[Any], Any], what: str, *,
              remember: bool = False) -> Any:
        """One exchange with retries; ``read(response)`` raises _BadAnswer for an answer worth retrying.

        ``remember``: a failure that used every attempt ends the endpoint's session (the scoring route's; a
        metadata route that fails must not). A refusal (4xx) costs one request and is not remembered: the
        token is read at each request, and may be fixed meanwhile."""
        import httpx

        # Held as Secrets from here on: a traceback through this frame prints its arguments and locals.
        url = url if isinstance(url, Secret) else Secret(url)
        self._refuse_if_failed(what)
        client, headers = self._http(), Secret(self._request_headers())
        try:
            body = None if body is None else Secret(json.dumps(body, allow_nan=False).encode())
        except ValueError:
            raise AdapterError(f"the rows sent {what} hold infinite values, which JSON cannot carry") from None
        last = "no attempt"
        for attempt in range(self.retries + 1):
            self._refuse_if_failed(what)
            self.usage.add(requests=1, retries=int(attempt > 0))
            wait = min(self.backoff * 2**attempt, self.max_backoff)
            try:
                response = self._exchange(client, method, url, body, headers)
            except httpx.TimeoutException:
                last = f"no answer within {self.timeout:g} s (timeout=)"
            except httpx.TransportError as exc:
                last = self._scrub(f"{type(exc).__name__}: {exc}")
            except _TooLarge as exc:
                self.usage.add(failures=1)
                raise AdapterError(f"{self.url} answered more than max_response_bytes={self.max_response_bytes} "
                                   f"bytes {what} ({exc}); an answer that large is not predictions for one batch: "
                                   "check the URL and output=, or lower batch_size= (raise max_response_bytes= if "
                                   "the answers really are that large)") from None
            else:
                status = response.status_code
                if status == 429 or status >= 500:
                    last = f"HTTP {status}{self._snippet(response)}"
                    wait = _retry_after(response, wait, self.max_backoff)
                elif status >= 300:
                    self.usage.add(failures=1)
                    raise AdapterError(self._refused(response, what))
                else:
                    try:
                        return read(response)
                    except _BadAnswer as exc:
                        last = str(exc)
                    except AdapterError:
                        self.usage.add(failures=1)
                        raise
            if attempt < self.retries and self._gave_up.wait(wait):
                break  # another request gave up on this endpoint meanwhile
        self.usage.add(failures=1)
        self._refuse_if_failed(what)
        tries = f"{self.retries + 1} times" if self.retries else "once"
        message = (f"{self.url} failed {tries} {what}; last: {last}. Check that the endpoint is up and speaks "
                   "this protocol; raise retries= or timeout= for a slow one")
        if remember:
            self._give_up(message)
        raise AdapterError(message)

    def _exchange(self, client: Any, method: str, url: Secret, body: Secret | None, headers: Secret) -> Any:
        """One request, its answer read at most ``max_response_bytes`` into memory (raises _TooLarge beyond)."""
        import httpx

        limit = self.max_response_bytes
        with client.stream(method, url.reveal(), content=None if body is None else body.reveal(),
                           headers=headers.reveal()) as streamed:
            declared = streamed.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > limit:
                raise _TooLarge(f"it declared Content-Length {int(declared)}")
            chunks, size = [], 0
            for chunk in streamed.iter_bytes():
                size += len(chunk)
                if size > limit:
                    raise _TooLarge(f"{size} bytes read when it was stopped")
                chunks.append(chunk)
        # The body is decoded already (gzip and the like): the copy drops the headers that describe the wire form.
        kept = [(k, v) for k, v in streamed.headers.multi_items()
                if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")]
        return httpx.Response(streamed.status_code, headers=kept, content=b"".join(chunks),
                              request=streamed.request)

    def _give_up(self, message: str) -> None:
        with self._lock:
            if self._failed is None:
                self._failed = message
        self._gave_up.set()

    def _refuse_if_failed(self, what: str) -> None:
        if self._failed is not None:
            raise AdapterError(f"{self.url} is not asked again {what}: it failed earlier in this session "
                               f"({self._failed}); fix the endpoint and rerun (or close() the adapter to try again)")

    def _snippet(self, response: Any) -> str:
        text = response.text.strip()
        return f" ({self._scrub(text[:300])})" if text else ""

    def _refused(self, response: Any, what: str) -> str:
        status = response.status_code
        if status in (401, 403):
            hint = (f"check the token in the environment variable {self.token_env}" if self.token_env else
                    "the endpoint wants credentials: put the token in an environment variable and pass "
                    "token_env='NAME'")
        elif status == 404:
            hint = "check the URL (and the model name)"
        elif status < 400:
            hint = f"it redirects to {redact_url(response.headers.get('Location', '?'))}: pass that URL"
        else:
            hint = "the server refused the request; check that the columns sent are the ones the model reads"
        return f"{self.url} answered HTTP {status} {what}{self._snippet(response)}; {hint}"

    @staticmethod
    def _json(response: Any) -> Any:
        try:
            return response.json()
        except ValueError:
            raise _BadAnswer(f"an answer that is not JSON ({response.text[:80]!r})") from None

    # ------------------------------------------------------------------ scoring and identity

    def _request_body(self, frame: pd.DataFrame) -> tuple[Any, Any]:
        """The JSON body for ``frame`` and what ``_read`` needs to check the answer against it."""
        raise NotImplementedError

    def _read(self, response: Any, n: int, token: Any) -> Any:
        raise NotImplementedError

    def _infer_url(self) -> str:
        return self._url

    def _predict_batch(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray | None]:
        if self.feature_names is not None:
            missing = [c for c in self.feature_names if c not in frame.columns]
            if missing:
                raise InvalidSpec(f"columns {shorten(missing)} are not in the rows sent to {self.url} "
                                  f"(columns: {shorten(frame.columns, 12)})")
            frame = frame[self.feature_names]
        n = len(frame)
        body, token = self._request_body(frame)
        what = f"to a batch of {n} rows (columns {shorten(frame.columns, 6)})"
        out = self._send("POST", self._infer_url(), body, lambda r: self._read(r, n, token), what, remember=True)
        return outputs_to_predictions(out, n=n, threshold=self.threshold, positive_label=self.positive_label,
                                      name=self.name)

    def _describe(self) -> dict[str, Any]:
        """What the endpoint says about itself (its metadata routes)."""
        return {}

    def identity(self) -> dict[str, Any]:
        """The endpoint as the evidence records it (asked once): URL, model name and version, server."""
        if self._identity is None:
            try:
                described = self._describe()
            except AdapterError as exc:
                described = {"metadata": f"unavailable: {exc}"}
            self._identity = {"url": self.url, "protocol": self.protocol, **described}
        return self._identity

    def fingerprint(self) -> dict[str, str]:
        """The endpoint's identity, and a SHA-256 over it (of what the endpoint declares, not of its weights)."""
        identity = self.identity()
        canonical = json.dumps(identity, sort_keys=True, default=str)
        model = identity.get("model_name")
        out = {"kind": self.kind, "class": f"{self.protocol} endpoint",
               "description": f"{model or 'model'} at {self.url}",
               "sha256": hashlib.sha256(canonical.encode()).hexdigest(),
               "method": "SHA-256 of what the endpoint declares (URL, protocol, model name and version from its "
                         "metadata), not of the model behind it"}
        for key, value in identity.items():
            if value not in (None, "", []):
                out[key] = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
        if identity.get("model_version"):
            out["version"] = str(identity["model_version"])
        return out
