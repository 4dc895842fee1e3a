"""The secret visitors' addresses are hashed with: KB_IP_SALT, else one generated per install and kept in a file."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

SALT_FILE = "ip_salt"


def ip_salt(settings: Any) -> str:
    """KB_IP_SALT when set; else the install's own salt under KB_DATA_DIR, created on first use ("" if it cannot be).

    Without any salt no address is stored, and autocomplete, which counts visitors by address, suggests no query.
    Web processes on several machines each create their own file: set KB_IP_SALT on all of them instead, so that
    one client is one visitor whichever process it reaches.
    """
    if settings.ip_salt is not None:
        return settings.ip_salt.get_secret_value()
    path = Path(settings.data_dir) / SALT_FILE
    try:
        return _read_or_create(path)
    except OSError as e:
        logger.warning("cannot keep a generated ip salt in %s (%s): visitor address hashes are not stored", path, e)
        return ""


def _read_or_create(path: Path) -> str:
    try:
        value = path.read_text(encoding="ascii").strip()
        if len(value) >= 32:
            return value
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{SALT_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(secrets.token_hex(32) + "\n")
    try:
        # link() fails if another process created the file meanwhile: then its salt is the install's.
        os.link(tmp, path)
    except FileExistsError:
        pass
    except OSError:  # a filesystem without hard links: the last writer wins, read back below
        if not path.exists():
            os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    value = path.read_text(encoding="ascii").strip()
    if len(value) < 32:
        raise OSError(f"{path} holds no usable salt: remove it to have a new one made")
    return value
