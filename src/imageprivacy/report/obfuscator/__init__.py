"""The report of a DeepObfuscator run and the issue's targets it is checked against."""
