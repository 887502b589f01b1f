"""Errors of the backend: each one becomes an HTTP answer with a sentence (never a traceback)."""

from __future__ import annotations

from studio.errors import StudioError


class BackendError(StudioError):
    """A refusal with an HTTP status and a sentence for the client."""

    status = 400

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        if status is not None:
            self.status = status


class Unauthorized(BackendError):
    status = 401


class NotFound(BackendError):
    status = 404


class TooLarge(BackendError):
    status = 413


class SchemaNewerError(StudioError):
    """The backend database was written by a newer backend: refused, left untouched."""
