"""The fuzzer (tests/test_fuzz.py): `world`, `strategies`, `actions`, and `common` settings."""
