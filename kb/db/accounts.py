"""Agents and admins: password logins, server-side sessions with a CSRF token, and bearer tokens for the API.

Everything lives in the event log's database (SQLite or PostgreSQL), so several stateless web processes
share logins. Passwords are hashed with the standard library's scrypt (a memory-hard KDF; no extra
dependency needed); session ids and API tokens are random and stored only as SHA-256 digests, so a copy
of the database does not let anyone log in.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine, delete, func, insert, select, update

from kb.db.limits import LABEL_MAX, USER_MAX
from kb.db.schema import api_tokens as tokens
from kb.db.schema import sessions, users
from kb.db.validate import text, utc_now

ROLES = ("agent", "admin")
NAME_RE = re.compile(rf"^[a-z0-9][a-z0-9._@-]{{0,{USER_MAX - 1}}}$")
MIN_PASSWORD = 8
SESSION_TTL = timedelta(hours=12)
TOKEN_PREFIX = "kbt_"
# scrypt cost: 2^15 x 8 x 1 takes ~50 ms and 32 MiB, the OWASP-recommended floor.
_SCRYPT = {"n": 2**15, "r": 8, "p": 1, "maxmem": 64 * 1024 * 1024, "dklen": 32}


class AccountError(ValueError):
    """A bad user name, role or password, with a message that says which."""


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: str

    def can(self, role: str) -> bool:
        """Admins can do everything agents can."""
        return self.role == "admin" or self.role == role


@dataclass(frozen=True)
class Session:
    user: User
    csrf: str


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    key = hashlib.scrypt(password.encode("utf-8"), salt=salt, **_SCRYPT)
    return f"scrypt${_SCRYPT['n']}${salt.hex()}${key.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, n, salt, key = stored.split("$")
        params = {**_SCRYPT, "n": int(n)}
        got = hashlib.scrypt(password.encode("utf-8"), salt=bytes.fromhex(salt), **params)
    except (ValueError, TypeError):
        return False
    return scheme == "scrypt" and hmac.compare_digest(got.hex(), key)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


# A real hash to compare against when the user does not exist, so a wrong name takes as long as a wrong password.
_DUMMY_HASH = hash_password(secrets.token_hex(8))


class Accounts:
    """Users, their sessions and their API tokens."""

    def __init__(self, engine: Engine):
        """Over the event log's writer (EventLog.writer), whose database has the tables."""
        self.engine = engine

    # -- users ----------------------------------------------------------------------------------

    def add_user(self, name: str, role: str, password: str) -> User:
        name = name.strip().lower()
        if not NAME_RE.match(name):
            raise AccountError(f"user name {name!r}: use 1-64 lowercase letters, digits, '.', '_', '@' or '-'")
        if role not in ROLES:
            raise AccountError(f"role {role!r}: must be one of {', '.join(ROLES)}")
        if len(password) < MIN_PASSWORD:
            raise AccountError(f"password: at least {MIN_PASSWORD} characters")
        with self.engine.begin() as conn:
            if conn.execute(select(users.c.id).where(users.c.name == name)).first():
                raise AccountError(f"user {name!r} already exists")
            uid = conn.execute(
                insert(users)
                .values(name=name, role=role, password=hash_password(password), created=utc_now())
                .returning(users.c.id)
            ).scalar_one()
        return User(uid, name, role)

    def set_password(self, name: str, password: str) -> None:
        if len(password) < MIN_PASSWORD:
            raise AccountError(f"password: at least {MIN_PASSWORD} characters")
        with self.engine.begin() as conn:
            if not conn.execute(
                update(users).where(users.c.name == name).values(password=hash_password(password))
            ).rowcount:
                raise AccountError(f"no user {name!r}")
            # A new password ends every open session of that user.
            conn.execute(
                delete(sessions).where(
                    sessions.c.user_id == select(users.c.id).where(users.c.name == name).scalar_subquery()
                )
            )

    def remove_user(self, name: str) -> None:
        with self.engine.begin() as conn:
            uid = conn.execute(select(users.c.id).where(users.c.name == name)).scalar()
            if uid is None:
                raise AccountError(f"no user {name!r}")
            conn.execute(delete(sessions).where(sessions.c.user_id == uid))
            conn.execute(delete(tokens).where(tokens.c.user_id == uid))
            conn.execute(delete(users).where(users.c.id == uid))

    def list_users(self) -> list[User]:
        with self.engine.connect() as conn:
            return [User(r.id, r.name, r.role) for r in conn.execute(select(users).order_by(users.c.name))]

    def count(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(users)).scalar_one()

    def authenticate(self, name: str, password: str) -> User | None:
        """The user if the password is right, else None (in about the same time either way)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.name == name.strip().lower()[:USER_MAX])).first()
        ok = check_password(password, row.password if row else _DUMMY_HASH)
        return User(row.id, row.name, row.role) if row and ok else None

    # -- sessions -------------------------------------------------------------------------------

    def open_session(self, user: User) -> tuple[str, Session]:
        """A new session: the cookie value (shown once) and the session with its CSRF token."""
        sid, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            conn.execute(delete(sessions).where(sessions.c.expires < utc_now()))
            conn.execute(
                insert(sessions).values(
                    digest=_digest(sid), user_id=user.id, csrf=csrf, expires=utc_now() + SESSION_TTL
                )
            )
        return sid, Session(user, csrf)

    def session(self, sid: str) -> Session | None:
        if not sid or len(sid) > 100:
            return None
        with self.engine.connect() as conn:
            row = conn.execute(
                select(users.c.id, users.c.name, users.c.role, sessions.c.csrf, sessions.c.expires)
                .join(users, users.c.id == sessions.c.user_id)
                .where(sessions.c.digest == _digest(sid))
            ).first()
        if row is None or row.expires < utc_now():
            return None
        return Session(User(row.id, row.name, row.role), row.csrf)

    def close_session(self, sid: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(sessions).where(sessions.c.digest == _digest(sid)))

    # -- API tokens -----------------------------------------------------------------------------

    def create_token(self, name: str, label: str = "api") -> str:
        """A new bearer token for the user; the plain value is returned once and never stored."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            uid = conn.execute(select(users.c.id).where(users.c.name == name)).scalar()
            if uid is None:
                raise AccountError(f"no user {name!r}")
            conn.execute(
                insert(tokens).values(
                    digest=_digest(token), user_id=uid, label=text("label", label, LABEL_MAX), created=utc_now(), uses=0
                )
            )
        return token

    def token_user(self, token: str) -> User | None:
        if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
            return None
        digest = _digest(token)
        with self.engine.begin() as conn:
            row = conn.execute(
                select(users.c.id, users.c.name, users.c.role)
                .join(tokens, tokens.c.user_id == users.c.id)
                .where(tokens.c.digest == digest)
            ).first()
            if row is not None:
                conn.execute(
                    update(tokens).where(tokens.c.digest == digest).values(last_used=utc_now(), uses=tokens.c.uses + 1)
                )
        return User(row.id, row.name, row.role) if row else None

    def revoke_tokens(self, name: str) -> int:
        with self.engine.begin() as conn:
            uid = conn.execute(select(users.c.id).where(users.c.name == name)).scalar()
            if uid is None:
                raise AccountError(f"no user {name!r}")
            return conn.execute(delete(tokens).where(tokens.c.user_id == uid)).rowcount
