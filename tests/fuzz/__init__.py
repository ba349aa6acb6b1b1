"""Fuzzing: schemathesis over every operation, the Big List of Naughty Strings in every string field, and the money
state machine at length.

`make test` runs a short derandomized slice of each; `make fuzz` (LIVECOMMERCE_FUZZ=full) runs them for about a
quarter of an hour on PostgreSQL + Redis and prints the seed it used (replay it with FUZZ_SEED=...).
"""
