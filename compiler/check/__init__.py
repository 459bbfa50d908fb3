"""Stage 3, check: every block against its shape, references, burn rates, SLIs and PromQL (RELC3xx)."""
