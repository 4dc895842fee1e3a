"""Markdown body → sections: heading path, anchor and plain text, parsed with markdown-it-py."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from markdown_it import MarkdownIt
from markdown_it.token import Token

_md = MarkdownIt("commonmark").enable("table").enable("strikethrough")


@dataclass
class Section:
    heading: str  # "" for the text before the first heading
    heading_path: list[str]  # headings from the top level down to this one
    anchor: str  # "" for the intro
    level: int
    blocks: list[str] = field(default_factory=list)  # paragraphs, list items, table rows, code

    @property
    def text(self) -> str:
        return "\n".join(self.blocks)


def slugify(text: str) -> str:
    """GitHub-style heading anchor that keeps Cyrillic letters: 'Змінити пароль' → 'змінити-пароль'."""
    text = unicodedata.normalize("NFKC", text).lower().strip()
    text = re.sub(r"[^\w\s-]", "", text)
    return re.sub(r"\s", "-", text)


def inline_text(token: Token) -> str:
    """Plain text of an inline token: link text and code kept, markup dropped."""
    out: list[str] = []
    for child in token.children or []:
        if child.type in ("text", "code_inline", "html_inline"):
            out.append(child.content if child.type != "html_inline" else "")
        elif child.type in ("softbreak", "hardbreak"):
            out.append(" ")
        elif child.type == "image":
            out.append(child.content or str(child.attrs.get("alt", "")))
    return re.sub(r"[ \t]+", " ", "".join(out)).strip()


def split_sections(body: str) -> list[Section]:
    """Split an article body into sections at every heading (h1–h4); empty sections are dropped."""
    tokens = _md.parse(body)
    sections = [Section("", [], "", 0)]
    stack: list[tuple[int, str]] = []
    used_anchors: dict[str, int] = {}
    row: list[str] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.type == "heading_open":
            level = int(tok.tag[1])
            title = inline_text(tokens[i + 1])
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, title))
            base = slugify(title) or "section"
            n = used_anchors.get(base, 0)
            used_anchors[base] = n + 1
            anchor = base if n == 0 else f"{base}-{n}"
            sections.append(Section(title, [t for _, t in stack], anchor, level))
            i += 3
            continue
        current = sections[-1]
        if tok.type == "inline":
            text = inline_text(tok)
            if i > 0 and tokens[i - 1].type in ("th_open", "td_open"):
                row.append(text)
            elif text:
                current.blocks.append(text)
        elif tok.type == "tr_close":
            if any(row):
                current.blocks.append(" | ".join(row))
            row = []
        elif tok.type in ("fence", "code_block"):
            code = tok.content.strip()
            if code:
                current.blocks.append(code)
        i += 1
    return [s for s in sections if s.blocks]


def render_plain(body: str) -> str:
    """Whole body as plain text (for previews and language detection)."""
    return "\n".join(s.text for s in split_sections(body))
