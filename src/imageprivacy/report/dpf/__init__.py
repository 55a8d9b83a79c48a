"""The report of a DPF run and the issue's targets it is checked against."""
