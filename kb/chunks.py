"""Sections → chunks that fit the model's token limit and carry their article title and heading path."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass

from kb.articles import Article
from kb.sections import Section, split_sections

TokenCounter = Callable[[str], int]
_SENTENCE_END = re.compile(r"(?<=[.!?…;:])\s+")


@dataclass(frozen=True)
class Chunk:
    article_id: str
    index: int
    anchor: str
    section: str  # heading of the section the chunk comes from ("" for the intro)
    heading_path: tuple[str, ...]
    text: str  # the section text this chunk covers, for snippets
    embed_text: str  # title + heading path + text: what the model and the analyzer see

    @property
    def hash(self) -> str:
        """Identity of what gets embedded: equal hashes never need embedding twice."""
        return hashlib.sha256(self.embed_text.encode("utf-8")).hexdigest()


def header(title: str, heading_path: tuple[str, ...] | list[str]) -> str:
    # The title and headings give a short section its context ("Steps" alone means nothing).
    return "\n".join([title, " › ".join(heading_path)]) if heading_path else title


def _split_long(block: str, budget: int, count: TokenCounter) -> list[str]:
    """Split one over-long block at sentence ends, then at words, so every piece fits the budget."""
    pieces: list[str] = []
    for sentence in _SENTENCE_END.split(block):
        if count(sentence) <= budget:
            pieces.append(sentence)
            continue
        words, cur = sentence.split(), list[str]()
        for w in words:
            if cur and count(" ".join(cur + [w])) > budget:
                pieces.append(" ".join(cur))
                cur = []
            cur.append(w)
        if cur:
            pieces.append(" ".join(cur))
    # A single "word" longer than the budget (a huge URL or base64) is cut by characters.
    out: list[str] = []
    for p in pieces:
        while count(p) > budget and len(p) > 1:
            cut = max(1, len(p) * budget // max(count(p), 1) - 1)
            out.append(p[:cut])
            p = p[cut:]
        out.append(p)
    return [p for p in out if p.strip()]


def _pack(blocks: list[str], budget: int, count: TokenCounter) -> list[str]:
    """Greedily pack blocks into texts of at most `budget` tokens, never splitting a block that fits."""
    texts: list[str] = []
    cur: list[str] = []
    cur_tokens = 0
    for block in blocks:
        n = count(block)
        parts = [block] if n <= budget else _split_long(block, budget, count)
        for part in parts:
            m = n if part is block else count(part)
            if cur and cur_tokens + m > budget:
                texts.append("\n".join(cur))
                cur, cur_tokens = [], 0
            cur.append(part)
            cur_tokens += m
    if cur:
        texts.append("\n".join(cur))
    return texts


def chunk_article(
    article: Article, max_tokens: int, count: TokenCounter, sections: list[Section] | None = None
) -> list[Chunk]:
    """Chunks of one article, in reading order; `count` gives the model's token count of a passage."""
    chunks: list[Chunk] = []
    for sec in sections if sections is not None else split_sections(article.body):
        head = header(article.title, sec.heading_path)
        # Tokens left for the body once the header (and the prompt and special tokens) are in.
        budget = max(16, max_tokens - count(head) - 2)
        for text in _pack(sec.blocks, budget, count):
            chunks.append(
                Chunk(
                    article_id=article.id,
                    index=len(chunks),
                    anchor=sec.anchor,
                    section=sec.heading,
                    heading_path=tuple(sec.heading_path),
                    text=text,
                    embed_text=f"{head}\n{text}",
                )
            )
    if not chunks:
        # A body of headings only still deserves to be findable by its title.
        chunks.append(Chunk(article.id, 0, "", "", (), article.title, article.title))
    return chunks
