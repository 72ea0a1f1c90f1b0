"""openbwv: body-worn video, Taser and oversight management for a police force."""

__version__ = "0.1.0"
