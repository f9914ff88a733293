"""Exceptions: one class per error code of the protocol (``components.errors`` of the OpenRPC schema).

Every error the sidecar answers becomes an instance of a :class:`SidecarError` subclass that carries the
JSON-RPC ``code``, the ``message`` (a sentence a person can act on) and the ``data`` object, with the
fields of ``data`` also exposed as snake_case attributes (``OAuthError.error``, ``InvalidParamsError.field``...).
The per-code classes are generated from the schema (``_error_codes.py``); the rest is here.
"""

from __future__ import annotations

from typing import Any

from . import _error_codes
from ._error_base import SidecarError
from ._error_codes import *  # noqa: F401,F403 - the per-code classes and ERRORS_BY_CODE
from ._error_codes import ERRORS_BY_CODE

__all__ = [
    "SidecarError",
    *_error_codes.__all__,
    "ConnectionClosedError",
    "SidecarNotFoundError",
    "error_from_response",
]


class ConnectionClosedError(SidecarError):
    """The sidecar process ended (or its pipes closed) before answering. ``.stderr`` has its last lines."""

    def __init__(self, message: str, stderr: str = "") -> None:
        super().__init__(None, message, None)
        self.stderr = stderr

    def __reduce__(self):
        return (type(self), (self.message, self.stderr))


class SidecarNotFoundError(FileNotFoundError):
    """No sidecar executable could be found (see :func:`oauth_sidecar.find_sidecar`)."""


def error_from_response(error: Any) -> SidecarError:
    """Turns a JSON-RPC ``error`` object into the matching exception (``SidecarError`` for unknown codes)."""
    if not isinstance(error, dict):
        return SidecarError(None, f"Malformed error from the sidecar: {error!r}", None)
    code = error.get("code")
    message = error.get("message")
    if not isinstance(message, str):
        message = "" if message is None else str(message)
    cls = ERRORS_BY_CODE.get(code) if isinstance(code, int) else None
    if cls is None:
        return SidecarError(code, message, error.get("data"))
    return cls(code, message, error.get("data"))
