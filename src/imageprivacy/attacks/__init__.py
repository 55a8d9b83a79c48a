"""Attacks on protections: the unauthorized trainer (victim) and its recipes."""
