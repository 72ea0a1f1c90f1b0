"""Axis body worn systems as a client: the Axis Body Worn Integration API (an OpenStack Swift subset)
they upload recordings to, handed to footage ingest when complete."""
