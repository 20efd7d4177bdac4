"""Files that may hold personal data are private to their owner: 0600, folders 0700.

Every ``attrition`` process runs under the umask :data:`PRIVATE_UMASK` (set by the command
line's entry point before any command runs), so everything it and its children create (the
SQLite database and its ``-wal``/``-shm`` files, MLflow artifacts and store, reference
caches, spool segments, logs, exports, backups) is readable by its owner only, whatever
library creates the file. :func:`private_file` and :func:`private_dir` also set the mode
explicitly, for files that must be private whatever the umask (backups, keys).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

PRIVATE_UMASK: Final = 0o077
FILE_MODE: Final = 0o600
DIR_MODE: Final = 0o700


def restrict_new_files() -> int:
    """Make files this process (and its children) creates private; the previous umask."""
    return os.umask(PRIVATE_UMASK)


def private_dir(path: Path) -> Path:
    """``path`` 0700, and each parent this creates 0700 too (whatever the umask)."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=DIR_MODE, exist_ok=True)
        folder.chmod(DIR_MODE)
    path.chmod(DIR_MODE)
    return path


def private_file(path: Path, data: bytes) -> Path:
    """Write ``data`` to a new or truncated file that is 0600 from its first byte."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    path.chmod(FILE_MODE)
    return path
