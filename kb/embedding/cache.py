"""Atomic installs into the model cache: build in a temporary folder under a lock, record it, rename it into place."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from filelock import FileLock

log = logging.getLogger(__name__)

MARKER = ".complete"  # written last: a folder without it was never finished


def sha256_of(path: Path) -> str:
    """The hex sha256 of a file."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def lock(out_dir: Path) -> FileLock:
    """The inter-process lock that guards building out_dir."""
    return FileLock(str(out_dir.parent / f".{out_dir.name}.lock"))


def read_marker(out_dir: Path) -> str | None:
    """The record a finished install left in out_dir, or None."""
    try:
        return (out_dir / MARKER).read_text(encoding="utf-8").strip()
    except OSError:
        return None


def _fsync_tree(root: Path) -> None:
    for dirpath, _, files in os.walk(root):
        for name in files:
            fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # not every filesystem lets a directory be fsynced
    finally:
        os.close(fd)


def install_locked(out_dir: Path, build: Callable[[Path], str]) -> Path:
    """With lock(out_dir) held: build(tmp) fills a fresh folder and returns its record; tmp then replaces out_dir."""
    parent = out_dir.parent
    parent.mkdir(parents=True, exist_ok=True)
    # Leftovers of a crashed build; safe to remove because we hold the lock.
    for stale in parent.glob(f".{out_dir.name}.tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=parent))
    os.chmod(tmp, 0o755)  # mkdtemp makes it private; the cache may be shared with a service user
    try:
        record = build(tmp)
        (tmp / MARKER).write_text(record + "\n", encoding="utf-8")
        _fsync_tree(tmp)
        if out_dir.exists():
            # A directory cannot be replaced while non-empty: move the stale one aside first.
            trash = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-old-", dir=parent))
            os.replace(out_dir, trash / "old")
            shutil.rmtree(trash, ignore_errors=True)
        os.replace(tmp, out_dir)
        _fsync_dir(parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def ensure_installed(out_dir: Path, is_valid: Callable[[Path], bool], build: Callable[[Path], str]) -> Path:
    """out_dir if is_valid(out_dir), else built once by whichever process gets the lock first."""
    if is_valid(out_dir):
        return out_dir
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with lock(out_dir):
        if is_valid(out_dir):  # another process finished it while we waited for the lock
            return out_dir
        return install_locked(out_dir, build)
