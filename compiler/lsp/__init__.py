"""`relc lsp`: a Language Server Protocol server over stdio, answering from the compiler's own stages."""
