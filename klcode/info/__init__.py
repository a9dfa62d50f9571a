"""Information measures: entropy, cross-entropy, KL and JS divergences, per-symbol terms (formulas only)."""
