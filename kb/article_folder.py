"""The articles folder: its files found, each loaded into an Article, duplicate ids set aside."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from kb.articles import LOCALE_RE, MAX_FILE_BYTES, Article, ArticleLoadError, Problem, parse_article


def defaults_from_path(rel: Path) -> tuple[str | None, str | None]:
    """Locale and category implied by `articles/<locale>/<category>/file.md`."""
    parts = rel.parts[:-1]
    locale = parts[0].lower() if parts and LOCALE_RE.match(parts[0].lower()) else None
    rest = parts[1:] if locale else parts
    category = rest[0].lower() if rest else None
    return locale, category


@dataclass
class SourceFile:
    """A Markdown file found under the articles folder."""

    rel: str
    path: Path
    raw: bytes
    source_hash: str = field(init=False)

    def __post_init__(self) -> None:
        self.source_hash = hashlib.sha256(self.raw).hexdigest()


def scan(root: Path) -> tuple[list[SourceFile], list[Problem]]:
    """Every `*.md` file under root (sorted), read once; unreadable files become problems."""
    root = root.resolve()
    files: list[SourceFile] = []
    problems: list[Problem] = []
    for path in sorted(root.rglob("*.md")):
        rel = path.relative_to(root).as_posix()
        if any(part.startswith(".") for part in Path(rel).parts):
            continue
        try:
            # A symlink may point anywhere on the machine: only files inside the folder are articles.
            if path.is_symlink() and not path.resolve().is_relative_to(root):
                problems.append(Problem(rel, "symlink points outside the articles folder (skipped)"))
                continue
            if not path.is_file():
                continue
            size = path.stat().st_size
            if size > MAX_FILE_BYTES:
                problems.append(Problem(rel, f"file is {size:,} bytes, larger than the {MAX_FILE_BYTES:,} allowed"))
                continue
            files.append(SourceFile(rel, path, path.read_bytes()))
        except OSError as e:
            problems.append(Problem(rel, f"cannot read file: {e.strerror or e}"))
    return files, problems


def load_file(src: SourceFile) -> tuple[Article, list[Problem]]:
    locale, category = defaults_from_path(Path(src.rel))
    return parse_article(src.raw, src.rel, default_locale=locale, default_category=category)


@dataclass
class LoadResult:
    articles: list[Article]
    problems: list[Problem]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


def check_duplicates(articles: list[Article]) -> tuple[list[Article], list[Problem]]:
    """Keep the first article of each id (by path); report the others."""
    seen: dict[str, Article] = {}
    kept: list[Article] = []
    problems: list[Problem] = []
    for a in articles:
        if a.id in seen:
            problems.append(
                Problem(a.path, f"duplicate id {a.id!r}: already used by {seen[a.id].path} (skipped)", field="id")
            )
            continue
        seen[a.id] = a
        kept.append(a)
    return kept, problems


def load_articles(root: Path) -> LoadResult:
    """Load every article under root; broken files are reported and skipped, never fatal."""
    files, problems = scan(root)
    articles: list[Article] = []
    for src in files:
        try:
            article, warnings = load_file(src)
        except ArticleLoadError as e:
            problems.extend(e.problems)
            continue
        problems.extend(warnings)
        articles.append(article)
    articles, dup = check_duplicates(articles)
    return LoadResult(articles, problems + dup)
