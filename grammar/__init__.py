"""The relc grammar, shipped as package data and loaded with Lark.open_from_package."""
