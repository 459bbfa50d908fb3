"""The `relc` command line: one module per command, relc.yaml, the progress line."""
