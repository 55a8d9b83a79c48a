"""The papers' experiments as short recipes: which data, which protection, which attacks."""
