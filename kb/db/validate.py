"""Checks for values on their way into the database: each returns the value to store or raises ValueError."""

from __future__ import annotations

import math
import numbers
from datetime import UTC, datetime
from typing import Any, Literal, overload

UTC = UTC


def utc_now() -> datetime:
    """The current time, aware UTC."""
    return datetime.now(UTC)


def clean(value: str) -> str:
    """Make text storable on every backend: NUL and lone surrogates become U+FFFD."""
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            value = value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return value.replace("\x00", "\ufffd") if "\x00" in value else value


@overload
def text(name: str, value: Any, limit: int, *, optional: Literal[False] = False) -> str: ...


@overload
def text(name: str, value: Any, limit: int, *, optional: bool) -> str | None: ...


def text(name: str, value: Any, limit: int, *, optional: bool = False) -> str | None:
    """Free text: a str (or None when optional), cleaned and truncated to limit characters."""
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string, got {type(value).__name__}")
    return clean(value)[:limit]


@overload
def ident(name: str, value: Any, limit: int, *, optional: Literal[False] = False) -> str: ...


@overload
def ident(name: str, value: Any, limit: int, *, optional: bool) -> str | None: ...


def ident(name: str, value: Any, limit: int, *, optional: bool = False) -> str | None:
    """An identifier: a non-empty str of at most limit characters (never truncated silently)."""
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string, got {value!r:.60}")
    if len(value) > limit:
        raise ValueError(f"{name} is longer than {limit} characters")
    return clean(value)


def boolean(name: str, value: Any) -> bool:
    """A bool (numpy bools accepted)."""
    if isinstance(value, bool) or type(value).__name__ in ("bool_", "bool"):
        return bool(value)
    raise ValueError(f"{name} must be a bool, got {type(value).__name__}")


def real(name: str, value: Any, *, minimum: float | None = None) -> float:
    """A finite real number (numpy scalars accepted), not a bool."""
    kind = type(value)
    if not (kind is float or kind is int) and (kind is bool or not isinstance(value, numbers.Real)):
        raise ValueError(f"{name} must be a finite number, got {value!r:.60}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{name} must be a finite number, got {value!r:.60}")
    if minimum is not None and number < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return number


@overload
def integer(name: str, value: Any, *, minimum: int = 0, optional: Literal[False] = False) -> int: ...


@overload
def integer(name: str, value: Any, *, minimum: int = 0, optional: bool) -> int | None: ...


def integer(name: str, value: Any, *, minimum: int = 0, optional: bool = False) -> int | None:
    """An integer >= minimum (numpy integers accepted), not a bool."""
    if value is None and optional:
        return None
    if type(value) is int and value >= minimum:
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r:.60}")
    return int(value)


@overload
def moment(name: str, value: Any, *, optional: Literal[False]) -> datetime: ...


@overload
def moment(name: str, value: Any, *, optional: bool = True) -> datetime | None: ...


def moment(name: str, value: Any, *, optional: bool = True) -> datetime | None:
    """A timezone-aware datetime converted to UTC; None means now (or no bound) when optional."""
    if value is None and optional:
        return None
    if not isinstance(value, datetime):
        raise ValueError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (naive datetimes are ambiguous)")
    return value.astimezone(UTC)
