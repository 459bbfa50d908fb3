"""Stage 5, write: targets run (in workers for large builds), staged aside, swapped in whole, recorded."""
