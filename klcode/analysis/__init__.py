"""Analyses: measurement records and what is built from them (compare, matrix, converge, reports' data)."""
