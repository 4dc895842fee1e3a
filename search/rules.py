"""Search rules, the administrator's lever: synonyms per language and "for these queries, show this article first".

The rules live in a reviewed file beside the articles (`articles/_rules.yaml`, see search/rules_file.py) and are
published to the store with the index, so every process applies the same ones:

    synonyms:
      - lang: ru                      # only for queries written in this language (omit: every language)
        terms: [тариф, план, plan]    # a query with one of these also searches the others' words
    pins:
      - queries: [как поменять тариф, change my plan]
        article: plans-and-pricing-ru # its translations too: the reader gets their language's version
        match: exact                  # exact: the same words (any order or form); contains: at least these words
        added: 2026-12-02             # when it was added (the gap report tracks failures before and after)

Synonyms add the other terms' keywords to the sparse side of a search; the dense side reads meaning already. A pin
puts its article first wherever the search is allowed to show it: a customer's search never gets an internal or
draft article from a pin (the article is looked up with the search's own visibility filter).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import yaml

from kb import analysis
from kb.articles import ID_RE, LOCALE_RE, Problem
from kb.store import SparseVec

META_NAME = "rules"
VERSION = 1
MATCHES = ("exact", "contains")
MAX_QUERY_CHARS = 500
MAX_RULES = 5000  # entries of each kind: a file past this is a mistake, not a rule set


def term_key(text: str) -> frozenset[str]:
    """The analysed words of a text (stop words out, ru/uk lemmas, en stems): what a pin's query is matched by."""
    return frozenset(analysis.terms(text or "", None))


@dataclass(frozen=True)
class SynonymGroup:
    """Words that mean the same to this help center, in one language (or every language when lang is None)."""

    terms: tuple[str, ...]
    lang: str | None = None
    line: int | None = None
    note: str = ""

    @property
    def term_ids(self) -> tuple[frozenset[int], ...]:
        return tuple(frozenset(analysis.term_id(t) for t in term_key(x)) for x in self.terms)

    def as_json(self) -> dict:
        return {"terms": list(self.terms), "lang": self.lang, "line": self.line, "note": self.note}


@dataclass(frozen=True)
class Pin:
    """For these queries, show this article (in the reader's language when it has a translation) first."""

    queries: tuple[str, ...]
    article: str
    match: str = "exact"
    added: dt.date | None = None
    line: int | None = None
    note: str = ""

    @property
    def keys(self) -> tuple[frozenset[str], ...]:
        return tuple(k for k in (term_key(q) for q in self.queries) if k)

    def applies(self, key: frozenset[str], keys: tuple[frozenset[str], ...] | None = None) -> bool:
        """Whether a query with these analysed words gets the pin (`keys`: self.keys, when computed already)."""
        keys = self.keys if keys is None else keys
        if not key:
            return False
        if self.match == "contains":
            return any(k <= key for k in keys)
        return key in keys

    def as_json(self) -> dict:
        return {
            "queries": list(self.queries),
            "article": self.article,
            "match": self.match,
            "added": self.added.isoformat() if self.added else None,
            "line": self.line,
            "note": self.note,
        }


@dataclass
class Rules:
    """The rules in force: what search applies (see the module docstring)."""

    synonyms: list[SynonymGroup] = field(default_factory=list)
    pins: list[Pin] = field(default_factory=list)
    source_hash: str = ""
    _compiled: tuple | None = field(default=None, init=False, repr=False, compare=False)

    def _index(self) -> tuple[list[tuple[str | None, tuple[frozenset[int], ...]]], list[tuple[Pin, tuple]]]:
        """Term ids of every synonym and term sets of every pin's queries, analysed once."""
        if self._compiled is None:
            self._compiled = ([(g.lang, g.term_ids) for g in self.synonyms], [(p, p.keys) for p in self.pins])
        return self._compiled

    def __bool__(self) -> bool:
        return bool(self.synonyms or self.pins)

    def expand(self, sparse: SparseVec | None, lang: str | None) -> SparseVec | None:
        """The query's keywords plus those of every synonym of a term it has (groups of the query's language)."""
        if not sparse or not self.synonyms:
            return sparse
        have = set(sparse.indices)
        added: set[int] = set()
        for group_lang, ids in self._index()[0]:
            if group_lang and lang and group_lang != lang:
                continue
            if any(m and m <= have for m in ids):
                added |= set().union(*ids) - have
        if not added:
            return sparse
        weights = dict(zip(sparse.indices, sparse.values)) | dict.fromkeys(added, 1.0)
        indices = sorted(weights)
        return SparseVec(indices, [weights[i] for i in indices])

    def pinned(self, texts: Iterable[str | None]) -> list[str]:
        """The article ids pinned for a query (its wordings: as typed, as corrected), in the file's order."""
        keys = {term_key(t) for t in texts if t}
        out: list[str] = []
        for pin, pin_keys in self._index()[1]:
            if pin.article not in out and any(pin.applies(k, pin_keys) for k in keys):
                out.append(pin.article)
        return out

    def pins_for(self, article_ids: Iterable[str]) -> list[Pin]:
        ids = set(article_ids)
        return [p for p in self.pins if p.article in ids]

    def as_json(self) -> dict:
        return {
            "version": VERSION,
            "source_hash": self.source_hash,
            "synonyms": [g.as_json() for g in self.synonyms],
            "pins": [p.as_json() for p in self.pins],
        }

    @classmethod
    def from_json(cls, d: dict) -> Rules:
        return cls(
            [SynonymGroup(tuple(g["terms"]), g.get("lang"), g.get("line"), g.get("note") or "") for g in d["synonyms"]],
            [
                Pin(
                    tuple(p["queries"]),
                    p["article"],
                    p.get("match") or "exact",
                    dt.date.fromisoformat(p["added"]) if p.get("added") else None,
                    p.get("line"),
                    p.get("note") or "",
                )
                for p in d["pins"]
            ],
            d.get("source_hash", ""),
        )


# -- the file: parsed and validated with file, line and field, like articles ------------------------------------


class _Located:
    """Line numbers (1-based) of the YAML nodes, by path ("pins", ("pins", 2), ("pins", 2, "article"))."""

    def __init__(self, root: yaml.Node | None):
        self.lines: dict[Any, int] = {}
        if isinstance(root, yaml.MappingNode):
            for k, v in root.value:
                self.lines[k.value] = k.start_mark.line + 1
                if isinstance(v, yaml.SequenceNode):
                    for i, item in enumerate(v.value):
                        self.lines[(k.value, i)] = item.start_mark.line + 1
                        self.lines[(k.value, i, "end")] = item.end_mark.line + 1
                        if isinstance(item, yaml.MappingNode):
                            for ik, _ in item.value:
                                self.lines[(k.value, i, ik.value)] = ik.start_mark.line + 1

    def line(self, *path) -> int | None:
        while path:
            key = path if len(path) > 1 else path[0]
            if key in self.lines:
                return self.lines[key]
            path = path[:-1]
        return None


def _strings(value, *, allow_one: bool = True) -> list[str] | None:
    if isinstance(value, str) and allow_one:
        value = [value]
    if not isinstance(value, list) or not all(
        isinstance(v, str | int | float) and not isinstance(v, bool) for v in value
    ):
        return None
    return [" ".join(str(v).split()) for v in value if str(v).strip()]


def parse(text: str, path: str = "_rules.yaml") -> tuple[Rules | None, list[Problem]]:
    """The rules in a file's text, and every problem found; None when the file as a whole cannot be read.

    An entry with an error is left out and reported; the others still apply.
    """
    problems: list[Problem] = []
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text) if root is not None else {}
    except yaml.MarkedYAMLError as e:
        mark = e.context_mark or e.problem_mark
        return None, [Problem(path, f"not valid YAML: {e.problem or e}", line=mark.line + 1 if mark else 1)]
    except yaml.YAMLError as e:
        return None, [Problem(path, f"not valid YAML: {e}", line=1)]
    where = _Located(root)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        return None, [Problem(path, "must be a mapping with 'synonyms:' and 'pins:' lists", line=1)]
    for key in data:
        if key not in ("synonyms", "pins"):
            problems.append(Problem(path, "unknown section (ignored)", where.line(str(key)), str(key), "warning"))
    rules = Rules(source_hash=hashlib.sha256(text.encode("utf-8")).hexdigest())

    def error(msg: str, *loc, severity: str = "error") -> None:
        fld = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in loc).replace(".[", "[")
        problems.append(Problem(path, msg, where.line(*loc), fld, severity))  # type: ignore[arg-type]

    for section in ("synonyms", "pins"):
        items = data.get(section)
        if items is None:
            continue
        if not isinstance(items, list):
            error("must be a list of entries (each starting with '- ')", section)
            continue
        if len(items) > MAX_RULES:
            error(f"{len(items)} entries, more than the {MAX_RULES} allowed", section)
            continue
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                error(
                    "must be a mapping such as 'terms: [...]'"
                    if section == "synonyms"
                    else "must be a mapping such as 'queries: [...]'",
                    section,
                    i,
                )
                continue
            entry = (_synonyms if section == "synonyms" else _pin)(
                item, lambda m, *k, s=section, n=i, **kw: error(m, s, n, *k, **kw)
            )
            if entry is not None:
                line = where.line(section, i)
                entry = replace(entry, line=line)
                (rules.synonyms if section == "synonyms" else rules.pins).append(entry)  # type: ignore[arg-type]
    return rules, problems


def _note(item: dict) -> str:
    return " ".join(str(item.get("note") or "").split())[:500]


def _unknown(item: dict, known: tuple[str, ...], error) -> None:
    for k in item:
        if k not in known:
            error("unknown field (ignored)", str(k), severity="warning")


def _synonyms(item: dict, error) -> SynonymGroup | None:
    _unknown(item, ("terms", "lang", "note"), error)
    terms = _strings(item.get("terms"), allow_one=False)
    lang = item.get("lang")
    ok = True
    if terms is None or len(terms) < 2:
        error("needs a list of at least two words or phrases, e.g. [тариф, план, plan]", "terms")
        ok = False
    elif any(len(t) > MAX_QUERY_CHARS for t in terms):
        error(f"a phrase is longer than {MAX_QUERY_CHARS} characters", "terms")
        ok = False
    else:
        empty = [t for t in terms if not term_key(t)]
        if empty:
            error(f"{', '.join(repr(t) for t in empty)} has no searchable word (only stop words)", "terms")
            ok = False
    if lang is not None and (not isinstance(lang, str) or not LOCALE_RE.match(lang.lower())):
        error(f"unknown language {lang!r} (a code such as en, ru, uk)", "lang")
        ok = False
    if not ok:
        return None
    assert terms is not None
    return SynonymGroup(tuple(dict.fromkeys(terms)), lang.lower() if isinstance(lang, str) else None, note=_note(item))


def _pin(item: dict, error) -> Pin | None:
    _unknown(item, ("queries", "article", "match", "added", "note"), error)
    queries = _strings(item.get("queries"))
    article = item.get("article")
    match = item.get("match") or "exact"
    added = item.get("added")
    ok = True
    if not queries:
        error("needs the queries it applies to, e.g. [how do i change my plan]", "queries")
        ok = False
    elif any(len(q) > MAX_QUERY_CHARS for q in queries):
        error(f"a query is longer than {MAX_QUERY_CHARS} characters", "queries")
        ok = False
    elif any(not term_key(q) for q in queries):
        bad = next(q for q in queries if not term_key(q))
        error(f"{bad!r} has no searchable word (only stop words): it would never match", "queries")
        ok = False
    if not isinstance(article, str) or not ID_RE.match(article):
        error("needs the id of the article to show first (lowercase letters, digits, '.', '_', '-', '/')", "article")
        ok = False
    if match not in MATCHES:
        error(f"unknown value {match!r} (expected one of: {', '.join(MATCHES)})", "match")
        ok = False
    if added is not None and not isinstance(added, dt.date):
        error(f"{added!r} is not a date (YYYY-MM-DD)", "added")
        ok = False
    if not ok:
        return None
    assert queries is not None and isinstance(article, str)
    return Pin(tuple(dict.fromkeys(queries)), article, match, added, note=_note(item))
