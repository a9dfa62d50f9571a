"""Rendering: documents per command (table, JSON, CSV, Markdown), the corpus report page, plots."""
