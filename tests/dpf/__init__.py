"""Tests of the dpf method's code, mirroring src/imageprivacy/*/dpf/."""
