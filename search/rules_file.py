"""The reviewed rules file (`articles/_rules.yaml`): read, edited in place, published to the store, cached.

Edits from the admin pages change only the lines of the entry they add or remove, so the reviewers' comments and
layout stay as they were; every write is validated first and lands whole (a temporary file renamed over it). The
rules in force are the last valid ones published: `kb index` publishes the file beside the articles, the admin
pages publish after each edit, and every process reads them from the store (RulesCache), so a web process that
never sees the file applies them too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from filelock import FileLock

from kb.articles import Problem
from kb.store import SearchFilter, VectorStore
from search.rules import META_NAME, VERSION, Rules, parse

log = logging.getLogger(__name__)

RULES_FILE = "_rules.yaml"
HEADER = (
    '# Search rules: synonyms per language and pins ("for these queries, show this article first").\n'
    "# Reviewed like the articles; `kb index` checks and publishes them. Format: docs/search-rules.md\n"
)


class RulesError(ValueError):
    """An edit that was not made; carries the problems of the text it would have written."""

    def __init__(self, message: str, problems: Sequence[Problem] = ()):
        super().__init__(message)
        self.problems = list(problems)


def rules_path(articles_dir: Path) -> Path:
    return Path(articles_dir) / RULES_FILE


def read_text(articles_dir: Path) -> str:
    path = rules_path(articles_dir)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""


def check(text: str, store: VectorStore | None = None) -> tuple[Rules | None, list[Problem]]:
    """Parse and validate; with a store, pins are checked against the indexed articles too."""
    rules, problems = parse(text, RULES_FILE)
    if rules is not None and store is not None and rules.pins:
        problems += _check_articles(rules, store)
    return rules, problems


def _check_articles(rules: Rules, store: VectorStore) -> list[Problem]:
    ids = sorted({p.article for p in rules.pins})
    recs = store.records(
        SearchFilter(article_ids=ids, title_points=True, types=None), ["article_id", "visibility"], limit=len(ids) * 4
    )
    seen = {r.payload["article_id"]: r.payload.get("visibility") for r in recs}
    out = []
    for i, pin in enumerate(rules.pins):
        vis = seen.get(pin.article)
        if vis is None:
            msg = f"no indexed article has the id {pin.article!r}: the pin does nothing until one does"
        elif vis == "internal":
            msg = f"{pin.article!r} is internal: the pin applies to agents' searches only, never to customers'"
        elif vis == "draft":
            msg = f"{pin.article!r} is a draft: nobody sees it, so the pin does nothing until it is published"
        else:
            continue
        out.append(Problem(RULES_FILE, msg, pin.line, f"pins[{i}].article", "warning"))
    return out


def publish(store: VectorStore, articles_dir: Path) -> tuple[Rules | None, list[Problem]]:
    """Check the file and make its rules the ones in force; a file that cannot be read keeps the last good ones."""
    text = read_text(articles_dir)
    rules, problems = check(text, store)
    if rules is not None:
        store.set_meta({**rules.as_json(), "published": time.time()}, META_NAME)
    elif text:
        problems = [
            Problem(p.path, p.message + " (the rules published before stay in force)", p.line, p.field, p.severity)
            for p in problems
        ]
    return rules, problems


def stored(store: VectorStore) -> Rules | None:
    """The rules in force, as published to the store."""
    d = store.get_meta(META_NAME)
    if not d or d.get("version") != VERSION:
        return None
    try:
        return Rules.from_json(d)
    except (KeyError, TypeError, ValueError) as e:  # a damaged document must not break searches
        log.warning("ignoring the stored search rules: %s", e)
        return None


class RulesCache:
    """The published rules, read from the store at most every few seconds (a change applies everywhere soon)."""

    def __init__(self, store: VectorStore, refresh_seconds: float = 5.0):
        self.store, self.refresh = store, refresh_seconds
        self._rules: Rules | None = None
        self._checked = -1e18
        self._lock = threading.Lock()

    def __call__(self) -> Rules | None:
        now = time.monotonic()
        if now - self._checked >= self.refresh:
            with self._lock:
                if now - self._checked >= self.refresh:
                    self._rules = stored(self.store) or None
                    self._checked = now
        return self._rules if self._rules else None

    def invalidate(self) -> None:
        self._checked = -1e18


# -- edits ------------------------------------------------------------------------------------------------------


def save_text(articles_dir: Path, text: str, store: VectorStore | None = None) -> tuple[Rules, list[Problem]]:
    """Replace the file with `text` when it has no errors (warnings are returned); RulesError otherwise."""
    with _lock(articles_dir):
        return _save_locked(articles_dir, text, store)


def add_pin(
    articles_dir: Path, queries: Sequence[str], article: str, note: str = "", match: str = "exact", store=None
) -> tuple[Rules, list[Problem]]:
    """Append a pin to the file (creating it when missing), today as its `added` date."""
    entry = {"queries": [" ".join(q.split()) for q in queries if q.strip()], "article": article}
    if match != "exact":
        entry["match"] = match
    entry["added"] = dt.date.today().isoformat()
    if note:
        entry["note"] = " ".join(note.split())
    return _append(articles_dir, "pins", entry, store)


def add_synonyms(
    articles_dir: Path, terms: Sequence[str], lang: str | None = None, store=None
) -> tuple[Rules, list[Problem]]:
    """Append a synonym group to the file (creating it when missing)."""
    entry: dict = {"lang": lang} if lang else {}
    entry["terms"] = [" ".join(t.split()) for t in terms if t.strip()]
    return _append(articles_dir, "synonyms", entry, store)


def remove(articles_dir: Path, section: str, index: int, store=None) -> tuple[Rules, list[Problem]]:
    """Remove one entry's lines (the `index`-th of `section`) and nothing else."""
    import yaml

    with _lock(articles_dir):
        text = read_text(articles_dir)
        root = yaml.compose(text) if text.strip() else None
        return _save_locked(articles_dir, _without(text, root, section, index), store)


def _without(text: str, root, section: str, index: int) -> str:
    import yaml

    items = next(
        (v for k, v in getattr(root, "value", []) if k.value == section and isinstance(v, yaml.SequenceNode)), None
    )
    if items is None or not 0 <= index < len(items.value):
        raise RulesError(f"there is no {section} entry {index + 1} to remove (the file changed since?)")
    node = items.value[index]
    lines = text.splitlines(keepends=True)
    # The entry's "- " sits before its first key on the same line; it runs to where the next entry starts.
    start = node.start_mark.line
    if index + 1 < len(items.value):
        end = items.value[index + 1].start_mark.line
    else:
        end = node.end_mark.line + (1 if node.end_mark.column > 0 else 0)
    kept = lines[:start] + lines[end:]
    if len(items.value) == 1:  # the section is empty now: drop its key too
        key_line = next(k.start_mark.line for k, v in root.value if k.value == section)
        kept = [ln for i, ln in enumerate(kept) if i != key_line]
    return "".join(kept)


def _entry_yaml(entry: dict) -> str:
    """One list entry in the file's style: flow lists on one line, each key on its own line."""
    out = []
    for i, (k, v) in enumerate(entry.items()):
        value = "[" + ", ".join(json.dumps(x, ensure_ascii=False) for x in v) + "]" if isinstance(v, list) else v
        if isinstance(value, str) and not value.startswith("[") and k != "added":
            value = json.dumps(value, ensure_ascii=False)
        out.append(("  - " if i == 0 else "    ") + f"{k}: {value}\n")
    return "".join(out)


def _append(articles_dir: Path, section: str, entry: dict, store) -> tuple[Rules, list[Problem]]:
    import yaml

    with _lock(articles_dir):
        text = read_text(articles_dir) or HEADER
        if text and not text.endswith("\n"):
            text += "\n"
        lines = text.splitlines(keepends=True)
        root = yaml.compose(text) if text.strip() else None
        keys = [(k.value, k.start_mark.line, v) for k, v in getattr(root, "value", [])]
        block = _entry_yaml(entry)
        mine = next((x for x in keys if x[0] == section), None)
        if mine is None:
            lines.append(f"{section}:\n" + block)
        elif isinstance(mine[2], yaml.SequenceNode) and mine[2].value and mine[2].flow_style is False:
            end = mine[2].value[-1].end_mark.line + (1 if mine[2].value[-1].end_mark.column > 0 else 0)
            lines.insert(end, block)
        elif isinstance(mine[2], yaml.ScalarNode) and mine[2].value in ("", "null", "~"):
            lines[mine[1]] = f"{section}:\n" + block
        else:
            raise RulesError(f"{RULES_FILE}: '{section}:' is not a list of '- ' entries; fix the file by hand first")
        return _save_locked(articles_dir, "".join(lines), store)


def _save_locked(articles_dir: Path, text: str, store) -> tuple[Rules, list[Problem]]:
    rules, problems = check(text, store)
    errors = [p for p in problems if p.severity == "error"]
    if rules is None or errors:
        raise RulesError(f"{RULES_FILE} was not saved: {len(errors) or 1} error(s)", problems)
    _write_unlocked(articles_dir, text)
    return rules, problems


def _lock(articles_dir: Path) -> FileLock:
    digest = hashlib.sha256(str(Path(articles_dir).resolve()).encode()).hexdigest()[:16]
    return FileLock(str(Path(tempfile.gettempdir()) / f"kb-rules-{digest}.lock"))


def _write_unlocked(articles_dir: Path, text: str) -> None:
    path = rules_path(articles_dir)
    try:
        fd, tmp = tempfile.mkstemp(prefix=".rules-", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as e:
        raise RulesError(f"cannot write {path}: {e.strerror or e} (edit the file in the repository instead)") from None
