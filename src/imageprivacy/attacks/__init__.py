"""Attacks on protections: the unauthorized trainer (victim), its recipes, and its data-side defences."""
