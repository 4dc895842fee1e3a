"""Help-center articles: the model, and one file parsed from Markdown with front matter and validated."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import frontmatter
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

MAX_FILE_BYTES = 1_000_000
VISIBILITIES = ("public", "internal", "draft")
ARTICLE_TYPES = ("article", "template")
ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*(/[a-z0-9][a-z0-9._-]*)*$")
# A category is one path segment of /categories/{category}: no '/', no '.', so never '..'.
CATEGORY_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
CATEGORY_RE = re.compile(CATEGORY_PATTERN)
LOCALE_RE = re.compile(r"^[a-z]{2,3}(-[a-z]{2})?$")


@dataclass(frozen=True)
class Problem:
    """Something wrong with one article file, located as precisely as we can."""

    path: str
    message: str
    line: int | None = None
    field: str | None = None
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        where = self.path + (f":{self.line}" if self.line else "")
        what = f"field '{self.field}': " if self.field else ""
        return f"{where}: {self.severity}: {what}{self.message}"

    def as_dict(self) -> dict:
        return {
            "path": self.path,
            "line": self.line,
            "field": self.field,
            "severity": self.severity,
            "message": self.message,
        }


class ArticleLoadError(Exception):
    """A file that cannot become an article; carries every problem found in it."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    locale: str
    category: str
    body: str
    path: str  # relative to the articles folder, with forward slashes
    source_hash: str  # sha256 of the file's bytes: unchanged bytes means nothing to do
    visibility: str = "public"
    tags: tuple[str, ...] = ()
    translation_of: str | None = None
    updated: dt.date | None = None
    type: str = "article"
    body_line: int = 1  # line of the file where the body starts

    @property
    def group_id(self) -> str:
        """The id that all translations of one article share."""
        return self.translation_of or self.id


class FrontMatter(BaseModel):
    """The front matter fields an article may have; unknown keys are reported, not fatal."""

    model_config = ConfigDict(extra="allow", str_strip_whitespace=True)

    id: str | None = None
    title: str | None = None
    locale: str | None = None
    translation_of: str | None = None
    category: str | None = None
    tags: list[str] = []
    visibility: Literal["public", "internal", "draft"] = "public"
    updated: dt.date | None = None
    type: Literal["article", "template"] = "article"

    @field_validator("id", "translation_of")
    @classmethod
    def _id_shape(cls, v: str | None) -> str | None:
        if v is not None and (not ID_RE.match(v) or len(v) > 200):
            raise ValueError(
                "must be lowercase letters, digits, '.', '_', '-' (and '/' between parts), at most 200 characters"
            )
        return v

    @field_validator("category")
    @classmethod
    def _category_shape(cls, v: str | None) -> str | None:
        if v and not CATEGORY_RE.match(v.lower()):
            raise ValueError("must be lowercase letters, digits, '_' and '-', at most 64 characters (no '/' or '.')")
        return v

    @field_validator("locale")
    @classmethod
    def _locale_shape(cls, v: str | None) -> str | None:
        if v is not None and not LOCALE_RE.match(v.lower()):
            raise ValueError("must be a language code such as en, ru, uk or pt-br")
        return v.lower() if v else v

    @field_validator("tags", mode="before")
    @classmethod
    def _tags_list(cls, v):
        if v is None:
            return []
        if isinstance(v, str):
            return [t.strip() for t in v.split(",") if t.strip()]
        return v

    @field_validator("title", "category")
    @classmethod
    def _not_blank(cls, v: str | None) -> str | None:
        if v is not None and not v:
            raise ValueError("must not be empty")
        return v


def _key_lines(text: str) -> dict[str, int]:
    """Line number of each top-level front matter key, for error messages."""
    lines: dict[str, int] = {}
    for no, line in enumerate(text.splitlines()[1:], start=2):
        if line.strip() == "---":
            break
        m = re.match(r"^([A-Za-z_][\w-]*)\s*:", line)
        if m:
            lines.setdefault(m.group(1), no)
    return lines


def _slug_default(rel: Path) -> str:
    return "/".join(part.lower() for part in rel.with_suffix("").parts)


def _first_heading(body: str) -> str | None:
    m = re.search(r"^#\s+(.+?)\s*#*\s*$", body, re.MULTILINE)
    return m.group(1) if m else None


def parse_article(
    raw: bytes, rel_path: str, *, default_locale: str | None = None, default_category: str | None = None
) -> tuple[Article, list[Problem]]:
    """Parse one file's bytes into an Article; raises ArticleLoadError, returns warnings."""
    path = rel_path
    if len(raw) > MAX_FILE_BYTES:
        raise ArticleLoadError(
            [Problem(path, f"file is {len(raw):,} bytes, larger than the {MAX_FILE_BYTES:,} allowed")]
        )
    if b"\x00" in raw:
        raise ArticleLoadError([Problem(path, "file is binary (contains NUL bytes), not Markdown")])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise ArticleLoadError([Problem(path, f"not valid UTF-8 at byte {e.start}", line=line)]) from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")

    handler = frontmatter.YAMLHandler()
    has_fm = handler.detect(text)
    meta: object = {}
    body = text
    try:
        if has_fm:
            # python-frontmatter finds the block; we load it ourselves to see what shape it has.
            fm_text, body = handler.split(text)
            meta = yaml.safe_load(fm_text) or {}
    except yaml.MarkedYAMLError as e:
        # Where the broken construct began is more useful than where the parser gave up
        # (an unclosed '[' is only noticed at the end of the block).
        mark = e.context_mark or e.problem_mark
        # The block handed to YAML starts at the end of the opening '---' line, so YAML's
        # 0-based line L is the file's line L + 1.
        line = mark.line + 1 if mark else 1
        raise ArticleLoadError(
            [Problem(path, f"front matter is not valid YAML: {e.problem or e}", line=line)]
        ) from None
    except (yaml.YAMLError, ValueError) as e:
        raise ArticleLoadError([Problem(path, f"front matter is not valid YAML: {e}", line=1)]) from None
    if not isinstance(meta, dict):
        raise ArticleLoadError([Problem(path, "front matter must be a mapping of 'key: value' lines", line=2)])

    key_lines = _key_lines(text) if has_fm else {}
    meta = {str(k): v for k, v in meta.items()}
    try:
        fm = FrontMatter.model_validate(meta)
    except ValidationError as e:
        problems = []
        for err in e.errors():
            fld = str(err["loc"][0]) if err["loc"] else None
            value = meta.get(fld) if fld else None
            msg = err["msg"]
            if fld == "visibility":
                msg = f"unknown value {value!r} (expected one of: {', '.join(VISIBILITIES)})"
            elif fld == "type":
                msg = f"unknown value {value!r} (expected one of: {', '.join(ARTICLE_TYPES)})"
            problems.append(Problem(path, msg, line=key_lines.get(fld or "", 1), field=fld))
        raise ArticleLoadError(problems) from None

    warnings = [
        Problem(path, "unknown front matter field (ignored)", line=key_lines.get(k), field=k, severity="warning")
        for k in (fm.model_extra or {})
    ]
    # The body starts on the line after the closing '---' (the first line without front matter),
    # then past any blank lines; an empty body is reported where it should have begun.
    lines = text.split("\n")
    fm_end = next((i for i, ln in enumerate(lines[1:], 1) if re.match(r"^-{3,}\s*$", ln)), 0) if has_fm else -1
    body_line = fm_end + 2
    while body_line <= len(lines) and not lines[body_line - 1].strip() and body.strip():
        body_line += 1
    body = body.strip("\n").rstrip()
    if not body.strip():
        raise ArticleLoadError([Problem(path, "article body is empty", line=body_line)])

    title = fm.title or _first_heading(body)
    if not title:
        raise ArticleLoadError(
            [
                Problem(
                    path,
                    "no title: set 'title' in the front matter or start the body with '# Title'",
                    line=key_lines.get("title", 1),
                    field="title",
                )
            ]
        )
    locale = fm.locale or default_locale
    if not locale:
        from kb.analysis import detect_language  # imported late: loading the analyzer's models costs time

        locale = detect_language(f"{title}\n{body[:2000]}")
    rel = Path(rel_path)
    article = Article(
        id=fm.id or _slug_default(rel),
        title=title,
        locale=locale,
        category=(fm.category or default_category or "general").lower(),
        body=body,
        path=path,
        source_hash=hashlib.sha256(raw).hexdigest(),
        visibility=fm.visibility,
        tags=tuple(t.lower() for t in fm.tags),
        translation_of=fm.translation_of,
        updated=fm.updated,
        type=fm.type,
        body_line=body_line,
    )
    if not ID_RE.match(article.id):
        raise ArticleLoadError(
            [
                Problem(
                    path,
                    f"the file name gives the id {article.id!r}, which is not a valid id: set 'id'",
                    line=1,
                    field="id",
                )
            ]
        )
    if not CATEGORY_RE.match(article.category):
        raise ArticleLoadError(
            [
                Problem(
                    path,
                    f"the folder gives the category {article.category!r}, which is not a valid category: set "
                    "'category' (lowercase letters, digits, '_' and '-')",
                    line=1,
                    field="category",
                )
            ]
        )
    return article, warnings
