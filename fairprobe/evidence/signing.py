"""Ed25519 signatures over a bundle's manifest (the ``cryptography`` package: ``pip install 'fairprobe[sign]'``).

The signature file ``MANIFEST.sha256.sig`` holds the raw 64-byte Ed25519 signature of the manifest's
bytes, so that it can also be checked without fairprobe::

    openssl pkeyutl -verify -pubin -inkey fairprobe-signing.pub -rawin \\
        -in MANIFEST.sha256 -sigfile MANIFEST.sha256.sig

Keys are PEM files: the private key PKCS#8 (unencrypted, written with mode 0600), the public key
SubjectPublicKeyInfo. ``cryptography`` is imported inside these functions only.
"""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path
from typing import Any

from fairprobe.errors import InvalidSpec, MissingDependency

ALGORITHM = "ed25519"


def keygen(directory: str | os.PathLike, *, name: str = "fairprobe-signing") -> tuple[Path, Path]:
    """Make an Ed25519 key pair: ``NAME.key`` (private, mode 0600) and ``NAME.pub`` in ``directory``.

    Existing files are never overwritten. Keep the private key out of the repository (a CI secret);
    publish the public key where auditors can find it.

    Examples
    --------
    >>> import tempfile
    >>> private, public = keygen(tempfile.mkdtemp())
    >>> private.name, public.name
    ('fairprobe-signing.key', 'fairprobe-signing.pub')
    >>> public.read_text().splitlines()[0]
    '-----BEGIN PUBLIC KEY-----'
    """
    if not isinstance(name, str) or not name or name in (".", "..") or any(c in name for c in "/\\\0") \
            or name != name.strip() or name.startswith("."):
        raise InvalidSpec(f"the key name is a file name stem inside the key folder, such as 'fairprobe-signing' (no "
                          f"folders, no leading dot); got {name!r}: put the folder in the directory argument")
    serialization, ed25519 = _crypto("making a signing key")
    directory = Path(directory)
    private_path, public_path = directory / f"{name}.key", directory / f"{name}.pub"
    for path in (private_path, public_path):
        if path.exists():
            raise InvalidSpec(f"{path} exists already; keygen never overwrites a key: remove it or choose "
                              f"another folder or name")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidSpec(f"cannot create the key folder {str(directory)!r}: {exc}") from None
    key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(private)
    public_path.write_bytes(public)
    return private_path, public_path


class Signer:
    """A loaded private key: ``sign(manifest)`` gives the signature file's bytes."""

    def __init__(self, key: Any, path: Path) -> None:
        self._key, self.path = key, path
        serialization, _ = _crypto("signing the evidence")
        self.public_raw: bytes = key.public_key().public_bytes(serialization.Encoding.Raw,
                                                               serialization.PublicFormat.Raw)

    def sign(self, data: bytes) -> bytes:
        return bytes(self._key.sign(data))

    def describe(self, file: str) -> dict[str, str]:
        """What evidence.json records about the signature: never the private key."""
        return {"algorithm": ALGORITHM, "file": file,
                "public_key": base64.b64encode(self.public_raw).decode("ascii"),
                "public_key_sha256": key_id(self.public_raw)}


def load_signer(path: str | os.PathLike) -> Signer:
    """The Ed25519 private key in a PEM file, ready to sign; a clear error if it is not one."""
    serialization, ed25519 = _crypto("signing the evidence")
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidSpec(f"cannot read the signing key {str(path)!r}: {exc.strerror or exc}; make a key pair "
                          "with: fairprobe keygen DIR") from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise InvalidSpec(f"the signing key {str(path)!r} is encrypted with a password; fairprobe signs with an "
                          "unencrypted key (keep it in a CI secret), as made by: fairprobe keygen DIR") from None
    except ValueError:
        hint = " (this is a public key: sign with the private .key file)" if b"PUBLIC KEY" in data else ""
        raise InvalidSpec(f"{str(path)!r} is not a PEM private key{hint}; make a key pair with: "
                          "fairprobe keygen DIR") from None
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise InvalidSpec(f"the signing key {str(path)!r} is a {type(key).__name__}; fairprobe signs with "
                          "Ed25519 keys, as made by: fairprobe keygen DIR")
    return Signer(key, path)


def load_public_key(path: str | os.PathLike) -> bytes:
    """The raw 32 bytes of the Ed25519 public key in a PEM file; InvalidSpec saying what is wrong otherwise."""
    serialization, ed25519 = _crypto("checking a signature")
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidSpec(f"cannot read the public key {str(path)!r}: {exc.strerror or exc}") from None
    if b"PRIVATE KEY" in data:
        raise InvalidSpec(f"{str(path)!r} is a private key; check signatures with the public key (the .pub "
                          "file keygen wrote beside it), and keep the private key secret")
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        raise InvalidSpec(f"{str(path)!r} is not a PEM public key; pass the .pub file made by fairprobe keygen"
                          ) from None
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise InvalidSpec(f"the public key {str(path)!r} is a {type(key).__name__}, not an Ed25519 key")
    return bytes(key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))


def signature_valid(data: bytes, signature: bytes, public_raw: bytes) -> bool:
    """Whether ``signature`` is the Ed25519 signature of ``data`` under the raw public key."""
    _, ed25519 = _crypto("checking a signature")
    from cryptography.exceptions import InvalidSignature

    try:
        ed25519.Ed25519PublicKey.from_public_bytes(public_raw).verify(signature, data)
    except (InvalidSignature, ValueError):
        return False
    return True


def key_id(public_raw: bytes) -> str:
    """SHA-256 of a raw public key: how evidence.json and verify name a key."""
    return hashlib.sha256(public_raw).hexdigest()


def _crypto(feature: str) -> tuple[Any, Any]:
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ed25519
    except ImportError:
        raise MissingDependency("cryptography", "sign", feature) from None
    return serialization, ed25519
