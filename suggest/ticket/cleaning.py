"""clean_message: the customer's own words of one message, every step of the cleaning in order."""

from __future__ import annotations

from suggest.ticket.greeting import drop_greeting
from suggest.ticket.quotes import FOOTER_RE, QUOTED_LINE_RE, SEPARATOR_RE, cut_quoted, drop_disclaimers
from suggest.ticket.signature import drop_signoff


def tidy(text: str) -> str:
    """Lines stripped, inner whitespace single, at most one blank line between paragraphs."""
    out: list[str] = []
    for raw in text.splitlines():
        line = " ".join(raw.split())
        if line or (out and out[-1]):
            out.append(line)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out)


def _clean_once(text: str) -> str:
    lines = tidy(text).split("\n")
    lines = cut_quoted(lines)
    lines = [ln for ln in lines if not QUOTED_LINE_RE.match(ln) and not FOOTER_RE.match(ln)]
    lines = drop_disclaimers(lines)
    lines = drop_greeting(lines)
    lines = drop_signoff(lines)
    # Outlook's "______" line that stood above a removed header block.
    while lines and (not lines[-1].strip() or SEPARATOR_RE.match(lines[-1])):
        lines.pop()
    return tidy("\n".join(lines))


def clean_message(text: str) -> str:
    """The customer's own words: no quoted replies, greetings, sign-offs, signatures, disclaimers or footers."""
    if not text or not text.strip():
        return ""
    # Repeat until nothing changes: removing a footer can expose a sign-off, a greeting line another greeting.
    # Each pass only removes, so this ends, and the result is a fixed point (clean_message is idempotent).
    current = text
    for _ in range(100):
        cleaned = _clean_once(current)
        if not cleaned:
            # A message that is nothing but "Thanks!" is still what the customer said: keep it searchable.
            return text.strip()
        if cleaned == current:
            break
        current = cleaned
    return current
