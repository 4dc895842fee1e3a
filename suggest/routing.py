"""Routing a ticket: its predicted category, how sure, and the skill group that handles that category.

The category comes from the articles that answer the ticket: each suggested article votes for its category
with its score, which already carries the agents' accept / reject feedback on similar tickets
(suggest/feedback.py), so a category agents keep rejecting loses its votes. The confidence is the winning
category's share of the votes. The group comes from a mapping category → group that admins keep in
`articles/_routing.yaml` (reviewed in git like the articles); a broken file is reported with its name, line
and field, and routing then shows the category without a group rather than failing the suggestion.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

log = logging.getLogger(__name__)

ROUTING_FILE = "_routing.yaml"
RELOAD_SECONDS = 30.0
MAX_GROUP = 200


class RoutingError(ValueError):
    """A routing file that cannot be used, located by file, line and field."""


@dataclass
class Routing:
    category: str
    confidence: float
    group: str | None  # None when the mapping has no group for the category (or no mapping exists)

    def as_api(self) -> dict:
        return asdict(self)


def parse_routing(text: str, path: str = ROUTING_FILE) -> dict[str, str]:
    """category → group from the YAML mapping; every problem raises RoutingError naming path, line and field."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise RoutingError(f"{path}{line}: not valid YAML: {getattr(e, 'problem', None) or e}") from None
    if node is None:
        return {}
    if not isinstance(node, yaml.MappingNode):
        raise RoutingError(f"{path}:{node.start_mark.line + 1}: expected a mapping of category: group")
    out: dict[str, str] = {}
    for key, value in node.value:
        line = key.start_mark.line + 1
        if not isinstance(key, yaml.ScalarNode) or not key.value.strip():
            raise RoutingError(f"{path}:{line}: a category name is needed")
        name = key.value.strip()
        if name in out:
            raise RoutingError(f"{path}:{line}: field '{name}': the category is listed twice")
        if not isinstance(value, yaml.ScalarNode) or not value.value.strip():
            raise RoutingError(f"{path}:{line}: field '{name}': a skill group name (text) is needed")
        if len(value.value) > MAX_GROUP:
            raise RoutingError(f"{path}:{line}: field '{name}': the group name is longer than {MAX_GROUP} characters")
        out[name] = value.value.strip()
    return out


class RoutingTable:
    """The mapping file, read again when it changes (an admin edits it and it is merged, no restart)."""

    def __init__(self, path: Path | None):
        self.path = path
        self._groups: dict[str, str] = {}
        self._stamp: float | None = None
        self._checked = -RELOAD_SECONDS  # read on first use
        self.error: str | None = None

    def groups(self) -> dict[str, str]:
        if self.path is None or time.monotonic() - self._checked < RELOAD_SECONDS:
            return self._groups
        self._checked = time.monotonic()
        try:
            stamp = self.path.stat().st_mtime
        except OSError:
            self._groups, self._stamp, self.error = {}, None, None
            return self._groups
        if stamp != self._stamp:
            self._stamp = stamp
            try:
                self._groups, self.error = parse_routing(self.path.read_text(encoding="utf-8"), str(self.path)), None
            except (RoutingError, OSError, UnicodeDecodeError) as e:
                # Keep the last good mapping: a bad edit must not stop routing the tickets.
                self.error = str(e)
                log.error("routing file: %s", e)
        return self._groups


def predict(votes: list[tuple[str, float]], groups: dict[str, str]) -> Routing | None:
    """The category with the most score among (category, score) of the suggested articles, with its share."""
    totals: dict[str, float] = {}
    for category, score in votes:
        if category and score > 0:
            totals[category] = totals.get(category, 0.0) + score
    if not totals:
        return None
    category = max(totals, key=lambda c: (totals[c], c))
    return Routing(category, round(totals[category] / sum(totals.values()), 4), groups.get(category))
