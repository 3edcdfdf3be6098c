"""`qkdnet reproduce`: the paper's experiment, its claims table and figures."""
