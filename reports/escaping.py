"""What customers and authors wrote, made inert for each export format: Markdown, CSV and JSON."""

from __future__ import annotations

import csv
import json
import re
from typing import Any
from urllib.parse import quote, urlsplit

# Inline Markdown: emphasis, code, links and images, tables, strikethrough; backslash-escaped (CommonMark allows it
# before any ASCII punctuation) so the text reads the same and means nothing.
_MD_INLINE = re.compile(r"([\\`*_\[\]|~])")
# At the start of a line these open a heading, list, quote or setext underline, and a spreadsheet runs = + - @.
_MD_LEADING = re.compile(r"^([#>+\-=@])")
_MD_ORDERED = re.compile(r"^(\d+)([.)])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def md_text(text: Any) -> str:
    """Text for one line of a Markdown document: no link, markup, HTML, table cell or new block can come of it."""
    s = " ".join(_CONTROL.sub(" ", str(text)).split())  # one line: a newline would start a block of its own
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    s = _MD_INLINE.sub(r"\\\1", s)
    return _MD_ORDERED.sub(r"\1\\\2", _MD_LEADING.sub(r"\\\1", s))


def md_url(url: str) -> str:
    """A link target: only this site's paths and http(s); anything that could end the link is percent-encoded."""
    if urlsplit(url).scheme.lower() not in ("", "http", "https") or url.startswith("//"):
        return "#"
    return quote(url, safe="/#?=&%:.-_~")


def md_link(title: Any, url: str) -> str:
    """A Markdown link whose text and target are both escaped."""
    return f"[{md_text(title)}]({md_url(url)})"


def csv_cell(value: Any) -> Any:
    """A cell a spreadsheet shows as text: one starting with = + - @ (or a tab, CR) would run as a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return value


class CsvWriter:
    """csv.writer whose every cell goes through csv_cell."""

    def __init__(self, out):
        self._writer = csv.writer(out)

    def writerow(self, row) -> None:
        self._writer.writerow([csv_cell(v) for v in row])


def json_text(data: Any) -> str:
    """Indented JSON with < > & and the JS line separators as \\u escapes: inert even if pasted into HTML."""
    text = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    # Outside strings JSON never holds these characters, so replacing them everywhere changes no value.
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return text
