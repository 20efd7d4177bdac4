"""The files of one backup folder: private (0600, folders 0700) and, with a key, encrypted.

Every file of a backup except its manifest goes through :class:`BackupFolder`. Without a
key a file is written as is; with one (a Fernet key: AES-128-CBC with HMAC-SHA256, from the
``cryptography`` package) it is written as ``<name>.enc``, a Fernet token of its content, so
the folder can be copied to other storage without exposing anyone. The manifest holds no
personal data (revision, row counts, dates) and records the encryption with a key check
token, so restore tells a wrong key from a damaged file. Contents are encrypted in memory,
file by file: the database tables as JSON lines, the MLflow store as one SQLite image, each
artifact on its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Final

from attrition.errors import AttritionError
from attrition.privacy.files import private_dir, private_file

if TYPE_CHECKING:
    from cryptography.fernet import Fernet

ENCRYPTED_SUFFIX: Final = ".enc"
ENCRYPTION: Final = "fernet"
_KEY_CHECK: Final = b"attrition-backup"


def new_key() -> bytes:
    """A fresh random backup key (urlsafe base64 of 32 random bytes)."""
    from cryptography.fernet import Fernet

    return Fernet.generate_key()


def write_key(path: Path) -> Path:
    """A new key in a new file, readable by its owner only; refuses to replace a key."""
    if path.exists():
        raise AttritionError(f"{path} exists; a backup key is never overwritten")
    private_dir(path.parent)
    return private_file(path, new_key() + b"\n")


def _fernet(key: bytes) -> Fernet:
    from cryptography.fernet import Fernet

    try:
        return Fernet(key)
    except ValueError:
        raise AttritionError(
            "the backup key is not a valid key (32 url-safe base64-encoded bytes); create one "
            "with `attrition maintenance backup-key --out FILE`"
        ) from None


class BackupFolder:
    """Reads and writes the files of one backup; encrypted when a key is given."""

    def __init__(self, root: Path, key: bytes | None) -> None:
        self.root = root
        self._fernet = None if key is None else _fernet(key)

    @property
    def encrypted(self) -> bool:
        return self._fernet is not None

    def encryption(self) -> dict[str, str]:
        """What the manifest records: the scheme and a token that proves the key."""
        if self._fernet is None:
            return {"scheme": "none"}
        return {"scheme": ENCRYPTION, "key_check": self._fernet.encrypt(_KEY_CHECK).decode()}

    def check(self, recorded: dict[str, str] | None) -> None:
        """Refuse to read with no key, or the wrong one, what was written with a key."""
        scheme = (recorded or {}).get("scheme", "none")
        if scheme == "none":
            if self._fernet is not None:
                self._fernet = None  # a clear backup restores whatever key is configured
            return
        if self._fernet is None:
            raise AttritionError(
                "this backup is encrypted: set ATTRITION_BACKUP_KEY or ATTRITION_BACKUP_KEY_FILE "
                "to the key it was written with"
            )
        self._decrypt((recorded or {}).get("key_check", "").encode(), "the key check")

    def write(self, relative: str, data: bytes) -> None:
        """Write one file of the backup (its folders created private)."""
        path = self.root / relative
        private_dir(path.parent)
        if self._fernet is None:
            private_file(path, data)
        else:
            private_file(path.with_name(path.name + ENCRYPTED_SUFFIX), self._fernet.encrypt(data))

    def exists(self, relative: str) -> bool:
        return self._stored(relative).exists()

    def read(self, relative: str) -> bytes:
        """The content of one file, decrypted."""
        data = self._stored(relative).read_bytes()
        return data if self._fernet is None else self._decrypt(data, relative)

    def files(self, folder: str) -> Iterator[str]:
        """The relative names of every file under ``folder`` (without ``.enc``)."""
        base = self.root / folder
        if not base.exists():
            return
        for path in sorted(p for p in base.rglob("*") if p.is_file()):
            name = str(path.relative_to(self.root))
            yield name.removesuffix(ENCRYPTED_SUFFIX) if self._fernet is not None else name

    def _stored(self, relative: str) -> Path:
        path = self.root / relative
        return path.with_name(path.name + ENCRYPTED_SUFFIX) if self._fernet else path

    def _decrypt(self, token: bytes, what: str) -> bytes:
        from cryptography.fernet import InvalidToken

        if self._fernet is None:
            return token
        try:
            return self._fernet.decrypt(token)
        except InvalidToken:
            raise AttritionError(
                f"cannot decrypt {what}: the configured backup key is not the one this backup "
                "was written with, or the file is damaged"
            ) from None
