"""Token counting that sees the whole text: a private copy of a Rust tokenizer with no truncation or padding."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tokenizers import Tokenizer


def untruncated(tokenizer: Tokenizer) -> Tokenizer:
    """A copy of tokenizer that neither truncates nor pads: counting is never capped and leaves the original alone."""
    from tokenizers import Tokenizer

    copy = Tokenizer.from_str(tokenizer.to_str())
    copy.no_truncation()
    copy.no_padding()
    return copy
