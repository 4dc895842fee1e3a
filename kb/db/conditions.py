"""SQL conditions that the event log's reads and the dashboard's aggregates share."""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists

from kb.db.schema import clicks, searches
from kb.db.validate import moment


def window(column: Any, since: Any, until: Any) -> list[Any]:
    """Conditions for since <= column < until."""
    since, until = moment("since", since), moment("until", until)
    conds = []
    if since is not None:
        conds.append(column >= since)
    if until is not None:
        conds.append(column < until)
    return conds


def clicked() -> Any:
    """EXISTS(a click on this search), correlated to searches."""
    return exists().where(clicks.c.search_pk == searches.c.id)
