"""`qkdnet sweep`: grids of scenarios x seeds on a local process pool or Ray."""
