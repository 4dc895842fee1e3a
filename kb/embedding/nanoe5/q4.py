"""GGML Q4_0 dequantisation: 18-byte blocks of a float16 scale and 32 four-bit values."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

QK = 32  # GGML Q4_0 block length
Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # 18 bytes
_Q4_CHUNK = 1 << 20  # blocks per dequantisation step: bounds peak memory on the 96M-value embedding


def dequantize_q4_0(raw: memoryview, shape: tuple[int, ...]) -> Iterator[np.ndarray]:
    """Yield the float32 values of a row-major GGML Q4_0 tensor, in chunks of whole blocks."""
    n_blocks = int(np.prod(shape)) // QK
    blocks = np.frombuffer(raw, dtype=Q4_BLOCK, count=n_blocks)
    for start in range(0, n_blocks, _Q4_CHUNK):
        chunk = blocks[start : start + _Q4_CHUNK]
        qs = chunk["qs"]
        q = np.empty((len(chunk), QK), dtype=np.int8)
        q[:, :16] = qs & 0x0F  # low nibbles are elements 0-15
        q[:, 16:] = qs >> 4  # high nibbles are elements 16-31
        q -= 8
        yield (q.astype(np.float32) * chunk["d"].astype(np.float32)[:, None]).reshape(-1)
