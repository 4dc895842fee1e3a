"""A bundled model exported once to ONNX (torch's exporter) and, when asked for, quantised to int8, in the cache."""

from __future__ import annotations

import json
import logging
import shutil
import time
import warnings
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from kb.embedding.cache import ensure_installed, read_marker, sha256_of
from kb.embedding.errors import ModelFileError
from kb.embedding.pooling import mean_pool_normalised
from kb.embedding.tokens import untruncated

log = logging.getLogger(__name__)

ONNX_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
CONFIG_FILE = "embedder.json"
FILES = (ONNX_FILE, TOKENIZER_FILE, CONFIG_FILE)
OPSET = 17
EXPORT_MIN_COSINE = 0.99999  # ONNX against torch, pooled sentence vectors of the check batch
# Measured on e5 and MiniLM against fp32 (AVX2 machine, no VNNI): per-tensor int8 weights gave min cosine 0.985 / 0.962,
# per-channel 0.991 / 0.962, per-channel uint8 weights 0.993 / 0.989 at the same speed. uint8 weights (U8U8) avoid
# the saturation of AVX2's u8 x s8 multiply, which onnxruntime's documentation names as the cause of such losses.
INT8_OPTIONS: dict[str, Any] = {"per_channel": True, "weight_type": "QUInt8"}


def export_dir(cache_dir: Path, source_name: str, int8: bool = False) -> Path:
    """Where the ONNX export of one model release lives."""
    return Path(cache_dir) / f"{source_name}-onnx{'-int8' if int8 else ''}"


def _record(source: str, maker: str, folder: Path) -> str:
    files = {name: sha256_of(folder / name) for name in FILES}
    return json.dumps({"source": source, "made_by": maker, "files": files}, sort_keys=True)


def is_valid(folder: Path, source: str) -> bool:
    """True when folder holds a finished export of source whose every file still has its recorded sha256."""
    raw = read_marker(folder)
    if raw is None:
        return False
    try:
        record = json.loads(raw)
        if record["source"] != source or sorted(record["files"]) != sorted(FILES):
            return False
        return all(sha256_of(folder / name) == digest for name, digest in record["files"].items())
    except (ValueError, KeyError, TypeError, OSError):
        return False


def _last_hidden(encoder):
    """The encoder as a module whose traced graph takes (input_ids, attention_mask) and returns token vectors."""
    import torch

    class LastHidden(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    return LastHidden(encoder).eval()


def _check_layout(st, source_dir: Path) -> None:
    # By class name: sentence-transformers 6 moved these classes between modules.
    kinds = [type(m).__name__ for m in st]
    pooling = st[1].get_config_dict() if len(kinds) > 1 and kinds[1] == "Pooling" else {}
    ok = (
        kinds[0] == "Transformer"
        and pooling.get("pooling_mode") == "mean"
        and pooling.get("include_prompt", True)
        and all(k == "Normalize" for k in kinds[2:])
    )
    if not ok:
        raise ModelFileError(
            f"{source_dir}: only Transformer → mean Pooling (→ Normalize) models run on ONNX Runtime "
            f"(this one is {' → '.join(kinds)}); use KB_EMBED_BACKEND=torch"
        )


def _export_fp32(source_dir: Path, source: str, tmp: Path) -> str:
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    started = time.monotonic()
    log.info("exporting %s to ONNX into the cache (once; takes under a minute)", source_dir)
    st = SentenceTransformer(str(source_dir), device="cpu", local_files_only=True)
    _check_layout(st, source_dir)
    encoder: Any = st[0].auto_model
    # Exactly the tokenizer torch uses: transformers may rebuild it from a vocabulary rather than take
    # the folder's tokenizer.json as written.
    untruncated(st.tokenizer.backend_tokenizer).save(str(tmp / TOKENIZER_FILE))
    config = {
        "dim": int(st.get_embedding_dimension() or 0),
        "max_tokens": int(st.max_seq_length or 0),
        "pad_id": int(encoder.config.pad_token_id or 0),
    }
    (tmp / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")

    # Two rows of different lengths: the traced graph must handle padding and any batch and length.
    batch = st.tokenizer(
        ["query: a short one", "passage: " + "a longer text with more tokens in it " * 4],
        padding=True,
        return_tensors="pt",
    )
    args = (batch["input_ids"], batch["attention_mask"])
    wrapped = _last_hidden(encoder)
    axes = {0: "batch", 1: "tokens"}
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's notes on Python conditions in transformers' mask code
        # The TorchScript exporter needs only the onnx package; its graph is checked against torch just below.
        torch.onnx.export(
            wrapped,
            args,
            str(tmp / ONNX_FILE),
            dynamo=False,
            opset_version=OPSET,
            input_names=["input_ids", "attention_mask"],
            output_names=["last_hidden_state"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "last_hidden_state": axes},
        )
        want = wrapped(*args).numpy()
    got = _session(tmp / ONNX_FILE).run(
        None, {"input_ids": args[0].numpy().astype(np.int64), "attention_mask": args[1].numpy().astype(np.int64)}
    )[0]
    mask = args[1].numpy()
    cosine = float((mean_pool_normalised(got, mask) * mean_pool_normalised(want, mask)).sum(axis=1).min())
    if cosine < EXPORT_MIN_COSINE:
        raise ModelFileError(
            f"{source_dir}: the ONNX export gives vectors at cosine {cosine:.6f} to torch's (< {EXPORT_MIN_COSINE})"
        )
    log.info("exported %s in %.1f s (cosine to torch %.7f)", source_dir, time.monotonic() - started, cosine)
    return _record(source, f"torch {metadata.version('torch')} opset {OPSET}", tmp)


def _session(path: Path):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _quantize(fp32_dir: Path, tmp: Path, source: str) -> str:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    started = time.monotonic()
    log.info("quantising %s to int8 (once; about half a minute)", fp32_dir)
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # the quantiser warns on the root logger that it would like a pre-processed model
    try:
        quantize_dynamic(
            fp32_dir / ONNX_FILE,
            tmp / ONNX_FILE,
            per_channel=INT8_OPTIONS["per_channel"],
            weight_type=getattr(QuantType, INT8_OPTIONS["weight_type"]),
        )
    finally:
        root.setLevel(level)
    for name in (TOKENIZER_FILE, CONFIG_FILE):
        shutil.copyfile(fp32_dir / name, tmp / name)
    log.info("quantised %s in %.1f s", fp32_dir, time.monotonic() - started)
    return _record(source, f"onnxruntime {metadata.version('onnxruntime')}", tmp)


def _int8_source(fp32: Path) -> str | None:
    """The int8 file is made from one fp32 file with one set of options: its record names both."""
    try:
        digest = json.loads(read_marker(fp32) or "")["files"][ONNX_FILE]
    except (ValueError, KeyError, TypeError):
        return None
    return f"{fp32.name}/{ONNX_FILE} sha256 {digest}, quantize_dynamic {json.dumps(INT8_OPTIONS, sort_keys=True)}"


def ensure_exported(source_name: str, source_dir: Callable[[], Path], cache_dir: Path, int8: bool = False) -> Path:
    """The checked ONNX folder of a model (model.onnx, tokenizer.json, embedder.json), exported if needed."""
    fp32 = export_dir(cache_dir, source_name)
    out = export_dir(cache_dir, source_name, int8=True)
    if int8:
        source = _int8_source(fp32)
        if source and is_valid(out, source):  # no need to hash the fp32 file as well
            return out
    ensure_installed(fp32, lambda d: is_valid(d, source_name), lambda tmp: _export_fp32(source_dir(), source_name, tmp))
    if not int8:
        return fp32
    made_from = _int8_source(fp32)
    if made_from is None:
        raise ModelFileError(f"{fp32}: the fp32 export was installed without its record; delete the folder")
    return ensure_installed(out, lambda d: is_valid(d, made_from), lambda tmp: _quantize(fp32, tmp, made_from))
