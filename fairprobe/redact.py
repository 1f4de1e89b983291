"""What of a run may leave the building: keyed hashes, masked text, masked secrets, safe CSV cells.

Everything here runs on the evidence document before any file is written, so the JSON, the HTML,
the CSV files and the exports all carry the same redacted values:

- :func:`redact_counterexamples` replaces the values of chosen columns in the worst twin pairs with a
  keyed hash (HMAC-SHA256, 12 hex digits): equal values stay equal within a key, so a reader still sees
  *that* a value changed, never *what* it was. With ``text=True`` it also masks personal data inside
  text values (names, e-mail addresses, phone numbers);
- :func:`mask_command` masks command-line secrets by one rule (see its docstring): the value of any
  option, ``NAME=VALUE`` setting or URL query parameter whose name contains pass, pwd, secret, token,
  key, cred or auth; URL userinfo; header values; and values shaped like API keys or bearer tokens;
- :class:`Secret` holds a credential so that nothing pytest prints (reprs, arguments, ``-l`` locals)
  shows it;
- :func:`escape_cell` defuses spreadsheet formulas in CSV cells (OWASP "CSV injection").
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Sequence
from functools import cache
from dataclasses import replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fairprobe.result import CheckResult

MASK = "[masked]"
# A name containing any of these (any case) names a secret: --db-pass, --pwd, --passphrase, --client-cred,
# -o db_pass=, ?access_token=, X-API-Key: (issue #17: the words a reader can predict, not a list of known options).
SECRET_WORDS = ("pass", "pwd", "secret", "token", "key", "cred", "auth")
_WORDS = "|".join(SECRET_WORDS)
HASH_DIGITS = 12

# Values shaped like credentials, wherever they appear in a command line (issue #10: an API key passed
# on the pytest command line reached evidence.json and report.html verbatim).
_SECRET_VALUES = [
    re.compile(r"\bsk-[A-Za-z0-9_\-]{8,}"),                       # OpenAI / Anthropic style keys
    re.compile(r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{16,}"),      # GitHub tokens
    re.compile(r"\bgithub_pat_[A-Za-z0-9_]{16,}"),
    re.compile(r"\bglpat-[A-Za-z0-9_\-]{16,}"),                     # GitLab
    re.compile(r"\bhf_[A-Za-z0-9]{16,}"),                           # Hugging Face
    re.compile(r"\bxox[abposr]-[A-Za-z0-9\-]{10,}"),                # Slack
    re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),                   # AWS access key ids
    re.compile(r"\beyJ[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{5,}"),  # JWTs
    re.compile(r"\b[0-9a-fA-F]{32,}\b"),                            # long hex
]
_BEARER = re.compile(r"(?i)\b(bearer|basic|token)(\s+|:\s*|=)([A-Za-z0-9._~+/=\-]{8,})")
# Userinfo of a URL (user:password@, a bare token@): everything between :// and the host's @.
_URL_CREDENTIALS = re.compile(r"(?<=://)[^/\s@?#]+@")
# NAME=VALUE inside a text (a URL's query, a DSN, a -o setting): VALUE up to the next separator.
_NAMED_VALUE = re.compile(rf"(?i)([\w.\-]*(?:{_WORDS})[\w.\-]*)=([^\s&;,'\"]+)")
# "NAME": "VALUE" (JSON or a Python dict written on the command line).
_QUOTED_VALUE = re.compile(rf"(?i)([\"'][\w.\-]*(?:{_WORDS})[\w.\-]*[\"']\s*:\s*)([\"'])(.*?)\2")
_HEADER = re.compile(r"^([A-Za-z][\w\-]*):[ \t]*(.*)$", re.DOTALL)
_HEADER_OPTIONS = ("H", "header", "headers")
_SCHEMES = ("bearer", "basic", "token", "digest", "negotiate", "apikey")
_BASE64 = re.compile(r"(?<![A-Za-z0-9+/_\-])[A-Za-z0-9+/_\-]{32,}={0,2}(?![A-Za-z0-9+/_\-])")
_ASSIGNMENT = re.compile(r"^([A-Za-z_][\w.\-]*)=(.*)$", re.DOTALL)

_EMAIL = re.compile(r"\b[\w.+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+\b")
# Seven to fifteen digits in groups, as phone numbers are written; dates and year ranges are left alone.
_PHONE = re.compile(r"(?<!\w)(?<!\d\.)(?:\+\d{1,3}[\s.\-]?)?(?:\(\d{1,4}\)[\s.\-]?)?\d[\d\s.\-]{5,}\d(?!\w)(?!\.\d)")
_NOT_PHONE = re.compile(r"^\d{4}[\-./]\d{1,2}[\-./]\d{1,2}$|^\d{4}\s*[\-–]\s*\d{4}$|^-?\d+\.\d+$")
_HONORIFIC = re.compile(r"\b(?:Mr|Mrs|Ms|Mx|Dr|Prof|Miss)\.?\s+([A-Z][\w'\-]+)")
_NAME_COLUMN = re.compile(r"(?i)(^|_)(first|last|given|family|full|middle|sur)?_?name$|^surname$")
# A capitalised word (O'Brien, Washington-Okafor) right after a masked name is the rest of that name: a surname
# or a middle name the lexicon lacks (issue #17: "Emily Walsh" kept "Walsh").
_NAME_TOKEN = r"\[name:[0-9a-f]{6}\]"
_CAPITALISED = r"[A-Z][\w'\u2019\-]*[^\W\d_]|[A-Z]"
_NEXT_NAME = re.compile(rf"({_NAME_TOKEN})([ \t]+)({_CAPITALISED})\b")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
INDEX = "index"  # in redact=: the records' index (row labels such as an SSN or a customer id)


_HASH = re.compile(f"h:[0-9a-f]{{{HASH_DIGITS}}}")


def keyed_hash(value: Any, key: bytes) -> str | None:
    """A short keyed hash of a value (HMAC-SHA256, 12 hex digits, ``h:`` prefix); None stays None.

    Examples
    --------
    >>> keyed_hash("Lakisha", b"k") == keyed_hash("Lakisha", b"k") != keyed_hash("Lakisha", b"other")
    True
    >>> keyed_hash("Lakisha", b"k")[:2], len(keyed_hash("Lakisha", b"k"))
    ('h:', 14)
    """
    if value is None:
        return None
    digest = hmac.new(key, _canonical(value).encode("utf-8"), hashlib.sha256).hexdigest()
    return f"h:{digest[:HASH_DIGITS]}"


def _hashed(value: Any) -> bool:
    """A value :func:`keyed_hash` made ("h:" and 12 lowercase hex digits): a raw value that merely starts with
    "h:" (a name, an address) is hashed like any other."""
    return isinstance(value, str) and _HASH.fullmatch(value) is not None


def session_key() -> bytes:
    """The redaction key: ``$FAIRPROBE_REDACT_KEY`` (at least 16 characters) when set, so hashes can be compared
    across runs and bundles; otherwise a random key for this session, never written anywhere (the pytest plugin
    hands the controller's to its xdist workers, :func:`use_session_key`, so every worker hashes alike)."""
    import os
    import secrets

    given = os.environ.get("FAIRPROBE_REDACT_KEY")
    if given:
        if len(given) < 16:
            from fairprobe.errors import InvalidSpec

            raise InvalidSpec(f"$FAIRPROBE_REDACT_KEY must hold at least 16 characters; it holds {len(given)}")
        return given.encode("utf-8")
    global _PROCESS_KEY
    if _PROCESS_KEY is None:
        _PROCESS_KEY = secrets.token_bytes(32)
    return _PROCESS_KEY


_PROCESS_KEY: bytes | None = None


def use_session_key(key: bytes) -> None:
    """Make ``key`` this process's random session key (an xdist worker takes its controller's)."""
    global _PROCESS_KEY
    _PROCESS_KEY = bytes(key)


def key_id(key: bytes) -> str:
    """A fingerprint of a redaction key that reveals nothing about it: two bundles hashed with the same key
    share it, so their hashed values can be compared."""
    return hmac.new(key, b"fairprobe redaction key id", hashlib.sha256).hexdigest()[:16]


def redact_counterexamples(counterexamples: Iterable[dict[str, Any]], columns: Iterable[str], *, key: bytes,
                           text: bool = False) -> list[dict[str, Any]]:
    """The counterexamples with the values of ``columns`` replaced by a keyed hash.

    Parameters
    ----------
    counterexamples : iterable of dict
        As a :class:`~fairprobe.checks.CheckResult` holds them: ``changes`` maps a column to its
        ``[original, twin]`` values.
    columns : iterable of str
        Columns whose values are replaced by :func:`keyed_hash` (both the original and the twin value);
        ``"index"`` hashes each counterexample's ``row`` (the record's index label, such as an SSN).
    key : bytes
        The HMAC key: equal values hash alike under one key, so pairs stay comparable.
    text : bool, default False
        Also mask personal data inside the other text values: the counterexample's own names (values of
        its name columns such as ``first_name``, which are hashed themselves), first names and surnames
        from fairprobe's name lexicon, names after a title (Ms, Dr, ...), e-mail addresses and phone
        numbers. A name becomes ``[name:<hash>]`` so that a changed name still reads as a change.
        Names outside these sources are not found: hash the whole text column when that matters.

    Returns
    -------
    list of dict
        New counterexamples; the input is left as it was.

    Examples
    --------
    >>> ex = {"row": 3, "changes": {"first_name": ["Emily", "Lakisha"],
    ...       "profile": ["Emily Walsh (emily@example.org, +1 555 010 2030) is a nurse.",
    ...                   "Lakisha Washington (emily@example.org, +1 555 010 2030) is a nurse."]}}
    >>> out = redact_counterexamples([ex], ["first_name"], key=b"k", text=True)[0]
    >>> out["changes"]["first_name"] == [keyed_hash("Emily", b"k"), keyed_hash("Lakisha", b"k")]
    True
    >>> print(out["changes"]["profile"][0])  # doctest: +ELLIPSIS
    [name:...] [name:...] ([email], [phone]) is a nurse.
    >>> "Emily" in str(out) or "Lakisha" in str(out)
    False
    """
    columns = set(columns)
    out = []
    for ex in counterexamples:
        if INDEX in columns and "row" in ex:
            ex = {**ex, "row": ex["row"] if _hashed(ex["row"]) else keyed_hash(ex["row"], key)}
        changes = ex.get("changes") or {}
        names = _own_names(changes) if text else []
        redacted: dict[str, Any] = {}
        for column, pair in changes.items():
            if column in columns or (text and _NAME_COLUMN.search(str(column))):
                # A value a probe already hashed (Probe(redact=...)) is kept, not hashed twice.
                redacted[column] = [v if _hashed(v) else keyed_hash(v, key) for v in pair]
            elif text:
                redacted[column] = [mask_text(v, key=key, names=names) if isinstance(v, str) else v for v in pair]
            else:
                redacted[column] = list(pair)
        out.append({**ex, "changes": redacted})
    return out


def redact_result(result: CheckResult, columns: Sequence[str], *, key: bytes | None = None) -> CheckResult:
    """``result`` with the values of ``columns`` in its counterexamples replaced by keyed hashes (``"text"`` in
    ``columns``: names, e-mail addresses and phone numbers masked in text values), and what was redacted, with
    the key's id, in its context. The key is the session's (:func:`session_key`) unless given."""
    key = session_key() if key is None else key
    text = "text" in columns
    named = [c for c in columns if c != "text"]
    redacted = redact_counterexamples(result.counterexamples, named, key=key, text=text)
    return replace(result, counterexamples=redacted).with_context(redact=named, redact_text=text,
                                                                  redact_key_id=key_id(key))


def mask_text(text: str, *, key: bytes, names: Sequence[str] = ()) -> str:
    """Personal data in a text masked: e-mail addresses, phone numbers, and names (``names``, the name
    lexicon's first names and surnames, also as a part of a double-barrelled name, a capitalised word after a
    title), and every capitalised word that directly follows a masked name (a surname or middle name the
    lexicon lacks).

    Examples
    --------
    >>> masked = mask_text("Call Dr. Okafor on 020 7946 0958 or write to a.okafor@example.com.", key=b"k")
    >>> masked  # doctest: +ELLIPSIS
    'Call Dr. [name:...] on [phone] or write to [email].'
    >>> mask_text("Emily Zbrzezny and Mr. Greg O'Brien met Walsh-Okafor.", key=b"k")  # doctest: +ELLIPSIS
    '[name:...] [name:...] and Mr. [name:...] [name:...] met [name:...].'
    >>> mask_text("Scored 63.4 in 2019-2021 with 12 years of experience.", key=b"k")
    'Scored 63.4 in 2019-2021 with 12 years of experience.'
    """
    text = _EMAIL.sub("[email]", text)
    text = _PHONE.sub(_phone_or_keep, text)

    def token(word: str) -> str:
        return f"[name:{(keyed_hash(word, key) or '')[2:8]}]"

    text = _HONORIFIC.sub(lambda m: m.group(0)[: m.start(1) - m.start(0)] + token(m.group(1)), text)
    own = sorted({n for name in names for n in str(name).split() if len(n) > 1}, key=len, reverse=True)
    if own:
        text = re.sub(r"\b(?:" + "|".join(map(re.escape, own)) + r")\b", lambda m: token(m.group(0)), text)
    lexicon = _lexicon_names()
    text = re.sub(r"\b[A-Z][a-z']+(?:-[A-Z][a-z']+)*\b", lambda m: token(m.group(0)) if lexicon.intersection(
        m.group(0).split("-")) else m.group(0), text)
    while True:  # each pass masks one more word of a name: Emily Jane Walsh
        masked = _NEXT_NAME.sub(lambda m: m.group(1) + m.group(2) + token(m.group(3)), text)
        if masked == text:
            return text
        text = masked


def mask_command(argv: Sequence[str] | None) -> list[str] | None:
    """A command line with its secrets masked, by one rule a reader can predict.

    A *secret name* is any name containing pass, pwd, secret, token, key, cred or auth, in any case
    (``--db-pass``, ``--pwd``, ``--passphrase``, ``--client-cred``, ``db_pass``, ``access_token``,
    ``X-API-Key``). Masked (replaced by ``[masked]``):

    - the value of an option with a secret name: ``--NAME=VALUE``, ``--NAME VALUE`` (the next argument,
      unless it starts with ``-``), ``-o NAME=VALUE``;
    - the value of every ``NAME=VALUE`` or ``"NAME": "VALUE"`` with a secret name, wherever it stands (an
      argument, a URL's query ``?access_token=...``, a connection string);
    - a URL's userinfo (``https://user:password@host``, ``https://TOKEN@host``);
    - the value of every header given with ``-H`` / ``--header`` (``-H "X-Trace: abc"`` as much as
      ``-H "X-API-Key: abc"``; an auth scheme such as ``Bearer`` is kept), and of any ``Name: value``
      argument with a secret name or named Cookie;
    - anywhere, values shaped like credentials: API keys (``sk-...``, ``ghp_...``, ``hf_...``, AWS key
      ids), JWTs, the credential after ``Bearer``/``Basic``/``Token``, hex strings of 32+ digits and
      random-looking base64 strings of 32+ characters.

    Option *names* are kept, so a reader sees which secret was passed, never its value. benchmarks/RESULTS.md
    lists the shapes tried (``python benchmarks/bench_secrets.py``).

    Examples
    --------
    >>> mask_command(["tests", "--api-key=sk-proj-abcdefghijklmnop", "--token", "t0ps3cret", "-k", "sex"])
    ['tests', '--api-key=[masked]', '--token', '[masked]', '-k', 'sex']
    >>> mask_command(["--url=https://me:hunter2@example.org/v1", "-H", "Authorization: Bearer abc.def.ghi123"])
    ['--url=https://[masked]@example.org/v1', '-H', 'Authorization: Bearer [masked]']
    >>> mask_command(["--db-pass", "x", "-o", "db_pass=y", "--endpoint=https://h/score?access_token=z&model=a"])
    ['--db-pass', '[masked]', '-o', 'db_pass=[masked]', '--endpoint=https://h/score?access_token=[masked]&model=a']
    """
    if argv is None:
        return None
    out: list[str] = []
    pending: str | None = None  # what the previous option says of this argument: "secret" or "header"
    for arg in map(str, argv):
        if pending is not None:
            what, pending = pending, None
            if what == "header":
                out.append(_mask_header(arg, always=True))
                continue
            if not arg.startswith("-"):
                out.append(MASK)
                continue
        if arg.startswith("-") and len(arg) > 1:
            name, sep, value = arg.lstrip("-").partition("=")
            if name in _HEADER_OPTIONS and (arg.startswith("--") or name == "H"):
                if sep:
                    out.append(arg[: arg.index("=") + 1] + _mask_header(value, always=True))
                else:
                    out.append(arg)
                    pending = "header"
                continue
            if secret_name(name):
                if sep:
                    out.append(arg[: arg.index("=") + 1] + MASK)
                else:
                    out.append(arg)
                    pending = "secret"
                continue
        assignment = _ASSIGNMENT.match(arg)
        if assignment and secret_name(assignment.group(1)):
            out.append(f"{assignment.group(1)}={MASK}")
            continue
        if _HEADER.match(arg) and not arg.startswith(("http:", "https:")):
            arg = _mask_header(arg, always=False)
        out.append(mask_secrets(arg))
    return out


def mask_secrets(text: str) -> str:
    """Secrets in a text masked: URL userinfo, ``NAME=VALUE`` and ``"NAME": "VALUE"`` with a secret name, and
    values shaped like credentials (see :func:`mask_command`).

    Examples
    --------
    >>> mask_secrets("model at https://user:pw@host/x?api_key=abc with key sk-ant-0123456789abcdef")
    'model at https://[masked]@host/x?api_key=[masked] with key [masked]'
    """
    text = _URL_CREDENTIALS.sub(MASK + "@", text)
    text = _NAMED_VALUE.sub(lambda m: f"{m.group(1)}={MASK}", text)
    text = _QUOTED_VALUE.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}{m.group(2)}", text)
    text = _BEARER.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    for pattern in _SECRET_VALUES:
        text = pattern.sub(MASK, text)
    return _BASE64.sub(lambda m: MASK if _random_looking(m.group(0)) else m.group(0), text)


def secret_name(name: str) -> bool:
    """Whether a name (an option, a setting, a query parameter, a header) names a secret: it contains pass, pwd,
    secret, token, key, cred or auth, in any case.

    Examples
    --------
    >>> [secret_name(n) for n in ("db-pass", "PWD", "client_cred", "X-API-Key", "Authorization", "seed")]
    [True, True, True, True, True, False]
    """
    lowered = name.lower()
    return any(word in lowered for word in SECRET_WORDS)


class Secret:
    """A credential that nothing prints: its repr and str are masked, so pytest's tracebacks (the arguments of
    each frame, ``-l`` locals) and the JUnit XML never show it; :meth:`reveal` gives the value to the one
    call that sends it.

    Examples
    --------
    >>> token = Secret("s3cr3t-t0ken")
    >>> token, str(token), f"{token}", token.reveal()
    (Secret('[masked]'), '[masked]', '[masked]', 's3cr3t-t0ken')
    >>> Secret({"Authorization": "Bearer x"})
    Secret('[masked]')
    """

    __slots__ = ("_value",)

    def __init__(self, value: Any) -> None:
        self._value = value

    def reveal(self) -> Any:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    def __str__(self) -> str:
        return MASK

    def __format__(self, spec: str) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", repr(self._value)))

    def __reduce__(self) -> tuple[Any, ...]:
        return (Secret, (self._value,))


def escape_cell(value: Any) -> Any:
    """A CSV cell that a spreadsheet will not run: text starting with =, +, -, @, tab or CR gets a leading
    apostrophe (OWASP, "CSV injection"), and a line break inside text becomes a plain LF, which the CSV writer
    quotes; a bare CR was written unquoted (the files end lines with LF), read as a row break, and started the
    next row with a live formula (issue #17). Numbers are left as they are.

    Examples
    --------
    >>> escape_cell("=HYPERLINK(\\"http://x\\")"), escape_cell("-1+2"), escape_cell(-0.5), escape_cell("Anna")
    ('\\'=HYPERLINK("http://x")', "'-1+2", -0.5, 'Anna')
    >>> escape_cell("ok\\r+cmd|' /C calc'!A0"), escape_cell("\\r\\n=1")
    ("ok\\n+cmd|' /C calc'!A0", "'\\n=1")
    """
    if not isinstance(value, str):
        return value
    if "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    if value.startswith(_FORMULA_START) or (value.startswith("\n") and value.lstrip("\n").startswith(_FORMULA_START)):
        return "'" + value
    return value


def _canonical(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _mask_header(text: str, *, always: bool) -> str:
    """``Name: value`` with its value masked (an auth scheme kept) when ``always`` or the name is a secret's or
    Cookie; text that is no header is masked whole when ``always``."""
    header = _HEADER.match(text)
    if header is None:
        return MASK if always else text
    name, value = header.groups()
    if not (always or secret_name(name) or name.lower() in ("cookie", "set-cookie")):
        return text
    scheme, _, rest = value.partition(" ")
    kept = f"{scheme} " if rest and scheme.lower() in _SCHEMES else ""
    return f"{name}: {kept}{MASK}"


def _random_looking(token: str) -> bool:
    # A path or an identifier of 32+ characters is rarely mixed-case with digits; a random token nearly always is.
    return (any(c.isdigit() for c in token) and any(c.islower() for c in token)
            and any(c.isupper() for c in token))


def _phone_or_keep(match: re.Match[str]) -> str:
    raw = match.group(0)
    digits = sum(c.isdigit() for c in raw)
    if not 7 <= digits <= 15 or _NOT_PHONE.match(raw.strip()):
        return raw
    if not any(c in raw for c in " .-()+") and digits < 9:  # a bare number such as 1234567 is not a phone
        return raw
    return "[phone]"


def _own_names(changes: dict[str, Any]) -> list[str]:
    return [str(v) for column, pair in changes.items() if _NAME_COLUMN.search(str(column))
            for v in pair if isinstance(v, str) and v.strip()]


@cache
def _lexicon_names() -> frozenset[str]:
    # Read as a file, not through fairprobe.twins (which imports pandas): `fairprobe verify` stays light.
    import csv
    from importlib import resources

    text = resources.files("fairprobe").joinpath("twins/lexicons/names.csv").read_text(encoding="utf-8")
    return frozenset(row["name"] for row in csv.DictReader(text.splitlines()))
