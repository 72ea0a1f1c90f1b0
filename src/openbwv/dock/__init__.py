"""The dock agent: uploads the files a docked camera leaves in a folder, resumably, and marks each
safe to wipe only once the server's hash of it matches the agent's."""

from openbwv.dock.agent import DockAgent, DockError, FileOutcome

__all__ = ["DockAgent", "DockError", "FileOutcome"]
