"""Stage 2, resolve: the input files, imports inside the project root, policy packs, and Sloth/OpenSLO YAML."""
