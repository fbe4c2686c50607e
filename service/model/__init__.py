"""The model: the registry's live version, its card, its onnxruntime sessions and the golden check."""
