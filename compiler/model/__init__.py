"""The model targets read (ir.py: frozen dataclasses the check stage builds) and names targets agree on."""
