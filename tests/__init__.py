"""The test suite. A regular package, so that `python -m tests.<module>` finds it before any
installed distribution that ships a top-level `tests` package of its own (gmqtt does)."""
