"""Tests of the obfuscator method's code, mirroring src/imageprivacy/*/obfuscator/."""
