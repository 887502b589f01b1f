"""Advisory file locks (released by the OS when the process dies, even by kill -9): studio.durable's."""

from studio.durable import lock, locked, unlock

__all__ = ["lock", "locked", "unlock"]
