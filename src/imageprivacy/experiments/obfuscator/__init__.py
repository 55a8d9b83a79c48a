"""The DeepObfuscator paper's experiment: pretraining, Algorithm 1, then fresh attackers on the frozen features."""
