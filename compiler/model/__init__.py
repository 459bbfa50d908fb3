"""The model targets read: the IR, the checked definitions it is lowered from, and shared names."""
