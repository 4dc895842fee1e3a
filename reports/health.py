"""Content health: what in the knowledge base needs care, each finding with its article, evidence and a fix link.

- near-duplicate articles in one language: their prototypes (mean of their units' vectors, reports/kb_view.py,
  centred per language) closer than the KB's own spread of nearest neighbours allows (an outlier fence fitted
  on this KB: Q3 + 3 IQR of every article's nearest same-language cosine, at most 0.9),
  or sharing half their lines word for word;
- translations missing for popular (clicked) articles, or older than their source (`updated:`);
- broken links between articles (a relative `.md` or `/articles/…` link to no indexed article);
- public articles never shown in a customer search, or shown and never clicked, in the window.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime

import numpy as np

from kb.embedder import Embedder
from kb.store import SearchFilter, VectorStore
from reports import kb_view
from reports.trends import parse_day

_LINK = re.compile(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_FIELDS = ["article_id", "title", "locale", "group_id", "visibility", "updated", "translation_of", "body", "path"]
MAX_DUPLICATE_FENCE = 0.9  # centred cosine: two articles this close share nearly all their lines
MIN_SHARED_LINES = 0.5  # of the shorter article's lines, word for word
MIN_SHOWN_FOR_NO_CLICK = 5  # shown this often and never clicked says something; twice says nothing


@dataclass
class Finding:
    """One thing to fix. `facts` is the evidence as data (numbers, dates, ids), per kind:
    duplicate {cosine, fence, other_title}, missing_translation {locale, clicks}, stale_translation {updated,
    source, source_updated}, broken_link {href}, never_shown {}, never_clicked {shown}; the page and `kb health`
    say it in the reader's language (web/i18n.py health_evidence)."""

    kind: str  # duplicate | missing_translation | stale_translation | broken_link | never_shown | never_clicked
    article: str
    title: str
    facts: dict
    fix_url: str
    other: str | None = None
    locale: str = ""  # the article's language (its title's, and a duplicate's other title's)


@dataclass
class HealthReport:
    since: str
    until: str
    articles: int
    findings: list[Finding] = field(default_factory=list)
    duplicate_cosine: float | None = None  # the fence fitted on this KB

    def by_kind(self) -> dict[str, list[Finding]]:
        out: dict[str, list[Finding]] = {}
        for f in self.findings:
            out.setdefault(f.kind, []).append(f)
        return out

    def as_dict(self) -> dict:
        return asdict(self)


def _finding(kind: str, p: dict, facts: dict, other: str | None = None) -> Finding:
    aid = p["article_id"]
    return Finding(kind, aid, p.get("title", ""), facts, f"/articles/{aid}", other, p.get("locale") or "")


def _articles(store: VectorStore) -> dict[str, dict]:
    recs = store.records(SearchFilter(visibilities=["public", "internal"], title_points=True), _FIELDS, 10_000_000)
    newest: dict[str, dict] = {}
    for r in recs:
        newest[r.payload["article_id"]] = r.payload  # one title point per article and generation: any is current
    return newest


def duplicates(arts: list[kb_view.ArticleUnits]) -> tuple[list[tuple[str, str, float]], float | None]:
    """Same-language pairs whose centred prototypes are closer than the KB's fence; and the fence."""
    if len(arts) < 4:
        return [], None
    protos = np.stack([a.vectors.mean(0) for a in arts])
    locales = np.array([a.locale for a in arts])
    for loc in set(locales.tolist()):
        idx = locales == loc
        protos[idx] -= protos[idx].mean(0)
    protos /= np.linalg.norm(protos, axis=1, keepdims=True) + 1e-12
    sims = protos @ protos.T
    same = (locales[:, None] == locales[None, :]) & ~np.eye(len(arts), dtype=bool)
    groups = np.array([a.group for a in arts])
    same &= groups[:, None] != groups[None, :]  # translations are no duplicates
    nearest = np.where(same, sims, -np.inf).max(1)
    nearest = nearest[np.isfinite(nearest)]
    if len(nearest) < 4:
        return [], None
    q1, q3 = np.percentile(nearest, [25, 75])
    # Capped: with a handful of articles per language the fence passes 1 and would never flag a copy.
    fence = min(float(q3 + 3 * (q3 - q1)), MAX_DUPLICATE_FENCE)
    # Or a copy with a new title: at least half the lines of one are lines of the other.
    lines = [{t.casefold() for t in a.texts[1:]} for a in arts]  # texts[0] is the title
    close = same & (sims >= fence)
    for i, j in zip(*np.nonzero(np.triu(same))):
        small = min(len(lines[i]), len(lines[j]))
        close[i, j] |= small > 0 and len(lines[i] & lines[j]) >= MIN_SHARED_LINES * small
    pairs = [(arts[i].id, arts[j].id, float(sims[i, j])) for i, j in zip(*np.nonzero(np.triu(close)))]
    return sorted(pairs, key=lambda p: -p[2]), round(fence, 4)


def _link_ok(href: str, here: dict, ids: set[str], paths: set[str]) -> bool:
    if re.match(r"^[a-z]+:|^#|^mailto:", href):
        return True
    path = href.split("#", 1)[0]
    if path.startswith("/articles/"):
        return path[len("/articles/") :].strip("/") in ids
    if not path.lower().endswith(".md"):
        return True
    target = posixpath.normpath(posixpath.join(posixpath.dirname(here.get("path") or ""), path))
    stem = posixpath.splitext(posixpath.basename(path))[0].lower()
    loc = here.get("locale") or ""
    return target in paths or stem in ids or f"{stem}-{loc}" in ids


def content_health(store: VectorStore, embedder: Embedder, events, since: datetime, until: datetime) -> HealthReport:
    arts = _articles(store)
    findings: list[Finding] = []
    units = [a for a in kb_view.load(store, embedder, ["public", "internal"]) if a.id in arts]
    pairs, fence = duplicates(units)
    for a, b, cos in pairs:
        facts = {"cosine": round(cos, 4), "fence": fence, "other_title": arts[b].get("title", b)}
        findings.append(_finding("duplicate", arts[a], facts, b))
    exposure = events.article_exposure(since, until) if events is not None else {}
    locales = sorted({str(p["locale"]) for p in arts.values() if p.get("locale")})
    by_group: dict[str, dict[str, dict]] = {}
    for p in arts.values():
        by_group.setdefault(p.get("group_id") or p["article_id"], {})[p.get("locale", "")] = p
    for group, members in sorted(by_group.items()):
        clicks = sum(exposure.get(p["article_id"], [0, 0])[1] for p in members.values())
        source = next((p for p in members.values() if p["article_id"] == group), None)
        if clicks and any(p.get("visibility") == "public" for p in members.values()):
            for loc in locales:
                if loc not in members:
                    first = next(iter(members.values()))
                    findings.append(_finding("missing_translation", first, {"locale": loc, "clicks": clicks}))
        src_day = parse_day(source.get("updated")) if source else None
        for p in members.values():
            day = parse_day(p.get("updated"))
            if source and p is not source and src_day and day and day < src_day:
                facts = {"updated": str(day), "source": source["article_id"], "source_updated": str(src_day)}
                findings.append(_finding("stale_translation", p, facts, source["article_id"]))
    ids, paths = set(arts), {str(p["path"]) for p in arts.values() if p.get("path")}
    for p in sorted(arts.values(), key=lambda p: p["article_id"]):
        for href in _LINK.findall(p.get("body") or ""):
            if not _link_ok(href, p, ids, paths):
                findings.append(_finding("broken_link", p, {"href": href}))
        if p.get("visibility") != "public" or events is None:
            continue
        shown, clicked = exposure.get(p["article_id"], [0, 0])
        if not shown:
            findings.append(_finding("never_shown", p, {}))
        elif not clicked and shown >= MIN_SHOWN_FOR_NO_CLICK:
            findings.append(_finding("never_clicked", p, {"shown": shown}))
    return HealthReport(since.date().isoformat(), until.date().isoformat(), len(arts), findings, fence)
