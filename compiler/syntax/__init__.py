"""Stage 1, parse: .relc text to syntax trees (two parsers, one tree builder) and back to canonical text."""
