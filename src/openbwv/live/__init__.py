"""Live operations: cameras' live state and purpose-bound live view."""
