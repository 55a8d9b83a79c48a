"""Tests of the unlearnable method's code, mirroring src/imageprivacy/*/unlearnable/."""
