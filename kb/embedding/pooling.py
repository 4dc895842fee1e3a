"""Sentence vectors from token vectors, as sentence-transformers makes them, in numpy."""

from __future__ import annotations

import numpy as np


def mean_pool_normalised(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """sentence-transformers' mean pooling over real tokens, then L2 normalisation, in float32."""
    weights = mask.astype(np.float32)
    summed = np.matmul(weights[:, None, :], hidden.astype(np.float32, copy=False))[:, 0]
    pooled = summed / np.maximum(weights.sum(axis=1, keepdims=True), 1e-9)
    return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
