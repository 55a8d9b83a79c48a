"""Attacks on protections, one folder per method; the reconstructor training loop is shared by dpf/ and obfuscator/."""
