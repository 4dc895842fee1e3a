"""Article Markdown → safe HTML: heading ids that match search's anchors, a table of contents, resolved links."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import nh3
from markdown_it import MarkdownIt

from kb.sections import inline_text, slugify

# Raw HTML in articles is parsed (authors use <kbd>, <details>) and everything unsafe is removed by nh3 below.
_md = MarkdownIt("commonmark").enable("table").enable("strikethrough")

_TAGS = set(nh3.ALLOWED_TAGS) - {"area", "map"}
_ATTRIBUTES = {k: set(v) for k, v in nh3.ALLOWED_ATTRIBUTES.items()}
for _h in ("h1", "h2", "h3", "h4", "h5", "h6"):
    _ATTRIBUTES.setdefault(_h, set()).add("id")
_ATTRIBUTES.setdefault("code", set()).add("class")
_ATTRIBUTES.setdefault("a", set()).add("title")
_ATTRIBUTES.setdefault("img", set()).add("title")
_ATTRIBUTES.setdefault("th", set()).add("class")
_ATTRIBUTES.setdefault("td", set()).add("class")
_URL_SCHEMES = {"http", "https", "mailto", "tel"}
_SCHEME_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
_ALIGN_RE = re.compile(r"text-align:(left|right|center)")

# (article id, base id) → the article's URL when a customer may see it, else None.
Resolver = Callable[[str], str | None]


@dataclass
class Heading:
    level: int
    text: str
    anchor: str


@dataclass
class Rendered:
    html: str
    toc: list[Heading] = field(default_factory=list)  # h2 and h3, in order


def sanitize(html: str) -> str:
    """Keep formatting, tables, code and links; drop scripts, event handlers, styles and unsafe URLs."""
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes=_URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def _link_target(href: str, locale: str, resolve: Resolver) -> str | None:
    """A relative `.md` link rewritten to its article page, or None when it cannot be resolved."""
    parts = urlsplit(href)
    stem = posixpath.splitext(posixpath.basename(parts.path))[0].lower()
    if not stem:
        return None
    for candidate in (f"{stem}-{locale}", stem) if locale else (stem,):
        url = resolve(candidate)
        if url:
            return url + (f"#{parts.fragment}" if parts.fragment else "")
    return None


def render_markdown(
    body: str, *, title: str | None = None, locale: str = "", resolve: Resolver | None = None
) -> Rendered:
    """Render an article body: heading ids as kb.sections makes them, TOC from h2/h3, links resolved, sanitised."""
    tokens = _md.parse(body)
    toc: list[Heading] = []
    used: dict[str, int] = {}
    skip_first_h1 = False
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open":
            text = inline_text(tokens[i + 1])
            base = slugify(text) or "section"
            n = used.get(base, 0)
            used[base] = n + 1
            anchor = base if n == 0 else f"{base}-{n}"
            tok.attrSet("id", anchor)
            level = int(tok.tag[1])
            if level in (2, 3):
                toc.append(Heading(level, text, anchor))
            if i == 0 and level == 1 and title and text.strip() == title.strip():
                skip_first_h1 = True  # the page shows the title already
        elif tok.type in ("th_open", "td_open"):
            style = tok.attrGet("style") or ""
            m = _ALIGN_RE.search(str(style))
            if m:
                tok.attrs.pop("style", None)
                tok.attrSet("class", f"align-{m.group(1)}")  # CSP forbids style attributes
        elif tok.type == "inline":
            for child in tok.children or []:
                if child.type != "link_open":
                    continue
                href = str(child.attrGet("href") or "")
                if href.startswith("#") or not href:
                    continue
                if _SCHEME_RE.match(href) or href.startswith("//"):
                    continue  # external: nh3 decides whether the scheme is allowed
                path = urlsplit(href).path
                if path.lower().endswith(".md") and resolve is not None:
                    target = _link_target(href, locale, resolve)
                else:
                    target = href if path.startswith("/") else None
                if target:
                    child.attrSet("href", target)
                else:
                    child.attrs.pop("href", None)  # left inert: the text stays, the link goes
    if skip_first_h1:
        tokens = tokens[3:]
    html = _md.renderer.render(tokens, _md.options, {})
    return Rendered(sanitize(html), toc)
