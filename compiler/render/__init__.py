"""Diagnostics for people and machines: text with carets, JSON, SARIF."""
