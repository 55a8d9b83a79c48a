"""`imageprivacy obfuscator train|evaluate|encode`: the DeepObfuscator verbs."""
