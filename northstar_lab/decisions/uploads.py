"""Uploaded files on the server: streamed to disk, content-addressed, kept or cleaned up.

An upload is written in 1 MiB chunks while it is hashed (never read whole into memory by us)
into `<root>/<sha256>/<name>`, so the same content is stored once whatever it was called and a
dataset reference names it by hash and file name, never by a server path.

Two roots:
- **temporary** (`temp_root()`, in the system temp folder): uploads being looked at. The app
  deletes a file when the last browser session that uploaded it ends, and `sweep` deletes
  anything older than a day (`MAX_TEMP_AGE_S`) that no session holds.
- **kept** (`kept_root(db)`): files a workshop session uses, in a folder named `uploads`
  beside the decision database (SQLite), or in the user data folder when the database is
  PostgreSQL; `$NORTHSTAR_UPLOADS` overrides. They stay until someone deletes them: remove a
  `<sha256>` folder to delete that file (a workshop that used it then asks for it again).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ..errors import InputError

CHUNK = 1 << 20
MAX_TEMP_AGE_S = 24 * 3600
_SHA = re.compile(r"^[0-9a-f]{64}$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


@dataclass(frozen=True)
class StoredUpload:
    """One uploaded file on disk: its content hash, the file name it was uploaded as (made safe
    for a file system), its size in bytes and where it is."""

    sha256: str
    name: str
    size: int
    path: Path

    def ref(self) -> dict:
        """How a dataset reference names it: by content, never by a server path."""
        return {"sha256": self.sha256, "name": self.name}


def safe_name(name: str) -> str:
    """A file name that cannot leave its folder or confuse a shell: the last path part only,
    unusual characters replaced by '_', at most 120 characters, the extension kept."""
    base = Path(str(name).replace("\\", "/")).name.strip() or "upload"
    base = _UNSAFE.sub("_", base).lstrip(".") or "upload"
    if len(base) > 120:
        stem, dot, ext = base.rpartition(".")
        base = (stem[: 119 - len(ext)] + dot + ext) if dot and len(ext) <= 10 else base[:120]
    return base


def temp_root() -> Path:
    return Path(tempfile.gettempdir()) / "northstar_uploads"


def kept_root(db_path: str | Path | None) -> Path:
    """Where workshop uploads are kept: $NORTHSTAR_UPLOADS, else `uploads` beside a SQLite
    decision database, else `uploads` in the user data folder (see the module docstring)."""
    env = os.environ.get("NORTHSTAR_UPLOADS", "").strip()
    if env:
        return Path(env).expanduser()
    if db_path:
        return Path(db_path).expanduser().resolve().parent / "uploads"
    from platformdirs import user_data_dir

    return Path(user_data_dir("northstar-lab", appauthor=False)) / "uploads"


def save_stream(fileobj: BinaryIO, name: str, root: Path) -> StoredUpload:
    """Copy `fileobj` (from its start) to `root/<sha256>/<safe name>` in chunks, hashing as it
    goes; an identical file already there is reused. The copy is written to a temporary file
    and renamed into place, so a half-written upload is never found."""
    root.mkdir(parents=True, exist_ok=True)
    if hasattr(fileobj, "seek"):
        fileobj.seek(0)
    digest, size = hashlib.sha256(), 0
    fd, tmp = tempfile.mkstemp(dir=root, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := fileobj.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
        sha = digest.hexdigest()
        folder = root / sha
        folder.mkdir(exist_ok=True)
        path = folder / safe_name(name)
        if path.exists():
            os.unlink(tmp)
        else:
            os.replace(tmp, path)
        os.utime(folder)  # the folder's age is its last use (see `sweep`)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return StoredUpload(sha, path.name, size, path)


def keep(upload: StoredUpload, root: Path) -> StoredUpload:
    """The same file under the kept root (a hard link when possible, else a copy)."""
    folder = root / upload.sha256
    target = folder / upload.name
    if not target.exists():
        folder.mkdir(parents=True, exist_ok=True)
        try:
            os.link(upload.path, target)
        except OSError:
            shutil.copyfile(upload.path, target)
    return StoredUpload(upload.sha256, upload.name, upload.size, target)


def find(ref: dict, roots: list[Path]) -> Path:
    """The file a dataset reference names, from the first root that has it.

    InputError (in words for people) when it is in none: the file was deleted, or the
    workshop was opened on another server.
    """
    sha, name = str(ref.get("sha256") or ""), safe_name(str(ref.get("name") or ""))
    if _SHA.fullmatch(sha):
        for root in roots:
            path = root / sha / name
            if path.is_file():
                return path
    raise InputError(
        f"The file '{name}' this dataset was uploaded from is no longer on the server "
        "(it was deleted, or this workshop was started on another server).",
        app="Upload it again on the Data page.",
    )


def sweep(root: Path, max_age_s: float = MAX_TEMP_AGE_S, keep_shas: set[str] = frozenset()):
    """Delete upload folders under `root` older than `max_age_s` (by last use), except those
    in `keep_shas`; also stray half-written files. Returns the number of folders deleted."""
    if not root.is_dir():
        return 0
    now, deleted = time.time(), 0
    for entry in root.iterdir():
        try:
            old = now - entry.stat().st_mtime > max_age_s
        except OSError:
            continue
        if not old or entry.name in keep_shas:
            continue
        if entry.is_dir() and _SHA.fullmatch(entry.name):
            shutil.rmtree(entry, ignore_errors=True)
            deleted += 1
        elif entry.name.startswith(".incoming-"):
            entry.unlink(missing_ok=True)
    return deleted


def delete(sha256: str, root: Path) -> None:
    """Delete one upload folder (its content hash) under `root`, if it is there."""
    if _SHA.fullmatch(sha256):
        shutil.rmtree(root / sha256, ignore_errors=True)


# ---- temporary uploads held by browser sessions ----------------------------------------------

_HELD: dict[str, int] = {}
_HELD_LOCK = threading.Lock()


def held() -> set[str]:
    """Content hashes some live session still holds (never swept)."""
    with _HELD_LOCK:
        return {sha for sha, n in _HELD.items() if n > 0}


class UploadHolds:
    """The temporary uploads one browser session holds. When the holder is garbage collected
    (the app keeps it in the session's state, which goes when the session ends) or `release`
    is called, each file no other session holds is deleted from `root`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.shas: set[str] = set()
        self._finalizer = weakref.finalize(self, _release, root, self.shas)

    def hold(self, sha256: str) -> None:
        if sha256 in self.shas:
            return
        with _HELD_LOCK:
            _HELD[sha256] = _HELD.get(sha256, 0) + 1
        self.shas.add(sha256)

    def release(self) -> None:
        self._finalizer()


def _release(root: Path, shas: set[str]) -> None:
    for sha in list(shas):
        with _HELD_LOCK:
            left = _HELD.get(sha, 1) - 1
            if left > 0:
                _HELD[sha] = left
            else:
                _HELD.pop(sha, None)
        if left <= 0:
            delete(sha, root)
    shas.clear()
