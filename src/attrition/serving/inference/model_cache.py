"""A verified local copy of the champion: files checksummed and the manifest signed.

Layout under ``<var>/model_cache/<model name>/``: one folder per version holding the MLflow
model files, ``<version>.manifest.json`` with the SHA-256 of every file plus registry
metadata, signed with an HMAC of the server secret, and ``current`` naming the version the
service last loaded. A cache whose files, manifest or signature do not match is refused:
loading it would unpickle code nobody verified.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from attrition.errors import AttritionError

_SIGN_LABEL = b"attrition/model-cache/v1"


class CacheError(AttritionError):
    """The local model cache is missing, incomplete, tampered with or corrupted."""


@dataclass(frozen=True, slots=True)
class CacheEntry:
    """A verified cached version: its folder and the registry metadata saved with it."""

    path: Path
    version: str
    meta: dict[str, Any]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_digests(folder: Path) -> dict[str, str]:
    """SHA-256 of every file below ``folder``, keyed by POSIX relative path."""
    return {
        p.relative_to(folder).as_posix(): _sha256(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _signature(body: dict[str, Any], secret: bytes) -> str:
    key = hmac.new(secret, _SIGN_LABEL, hashlib.sha256).digest()
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(key, canonical, hashlib.sha256).hexdigest()


def _safe_version(version: str) -> str:
    if not version.isdigit():
        raise CacheError(f"model version {version!r} is not a registry version number")
    return version


def store(root: Path, source: Path, version: str, meta: dict[str, Any], secret: bytes) -> Path:
    """Copy a downloaded model into the cache atomically and mark it current."""
    version = _safe_version(version)
    root.mkdir(parents=True, exist_ok=True)
    target = root / version
    digests = file_digests(source)
    if not (target.is_dir() and file_digests(target) == digests):
        staging = Path(tempfile.mkdtemp(prefix=f".{version}-", dir=root))
        shutil.copytree(source, staging, dirs_exist_ok=True)
        shutil.rmtree(target, ignore_errors=True)
        try:
            staging.rename(target)
        except OSError:  # another process stored the same version at the same moment
            shutil.rmtree(staging, ignore_errors=True)
    body = {"version": version, "meta": meta, "files": digests}
    manifest = {**body, "signature": _signature(body, secret)}
    _write_atomic(root / f"{version}.manifest.json", json.dumps(manifest, indent=1))
    _write_atomic(root / "current", version)
    return target


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    Path(tmp).replace(path)


def current_version(root: Path) -> str | None:
    """The version last stored as current, or None if there is no cache."""
    pointer = root / "current"
    return pointer.read_text().strip() if pointer.is_file() else None


def load_verified(root: Path, secret: bytes, version: str | None = None) -> CacheEntry:
    """The cached ``version`` (default: current) after checking signature and every file."""
    version = version or current_version(root)
    if version is None:
        raise CacheError(f"no cached model under {root}")
    version = _safe_version(version)
    manifest_path = root / f"{version}.manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text())
        body = {k: manifest[k] for k in ("version", "meta", "files")}
        signature = str(manifest["signature"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise CacheError(f"cached model v{version}: unreadable manifest ({error})") from None
    if not hmac.compare_digest(_signature(body, secret), signature):
        raise CacheError(f"cached model v{version}: manifest signature does not match")
    actual = file_digests(root / version) if (root / version).is_dir() else {}
    if actual != body["files"]:
        raise CacheError(f"cached model v{version}: files do not match their checksums")
    return CacheEntry(path=root / version, version=version, meta=dict(body["meta"]))
