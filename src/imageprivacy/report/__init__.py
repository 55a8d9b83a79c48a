"""Reports: results JSON in, Markdown with tables, curves and image grids out."""
