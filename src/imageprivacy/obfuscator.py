"""The DeepObfuscator API under a short, stable name: `from imageprivacy.obfuscator import Obfuscator`."""
from imageprivacy.protections.obfuscator import Obfuscator, encode_files, load_classifier, read_features

__all__ = ["Obfuscator", "encode_files", "load_classifier", "read_features"]
