"""The exception family every part of Clarity Studio raises, and the UI turns into messages.

    StudioError                 anything the user should read as a plain sentence
    ├── InputError              bad input; ``field`` names the widget it belongs to (or None)
    ├── EngineError             the engine failed the run; ``request_id`` when one exists
    │   ├── AuthError           the key is missing or was rejected (401), or the account is locked (403)
    │   └── EngineTimeoutError  the engine did not answer in time
    └── CancelledRun            the user cancelled the run
"""

from __future__ import annotations


class StudioError(Exception):
    """A failure with a message meant for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InputError(StudioError):
    """Bad input. ``field`` is the schema field (or "image") the message belongs to."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class EngineError(StudioError):
    """The engine could not complete the run."""

    def __init__(self, message: str, request_id: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.request_id = request_id
        self.field = field


class AuthError(EngineError):
    """The fal key is missing, rejected, or its account is locked."""


class EngineTimeoutError(EngineError):
    """The engine did not answer within the allowed time."""


class CancelledRun(StudioError):
    """The user cancelled the run."""
