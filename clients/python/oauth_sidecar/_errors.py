"""Exceptions: one class per error code of the protocol (``components.errors`` of the OpenRPC schema).

Every error the sidecar answers becomes an instance of a :class:`SidecarError` subclass that carries the
JSON-RPC ``code``, the ``message`` (a sentence a person can act on) and the ``data`` object, with the
fields of ``data`` also exposed as snake_case attributes (``OAuthError.error``, ``InvalidParamsError.field``...).
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional, Type

__all__ = [
    "SidecarError",
    "ParseError",
    "InvalidRequestError",
    "MethodNotFoundError",
    "InvalidParamsError",
    "InternalError",
    "RequestCancelledError",
    "FlowTimeoutError",
    "StateMismatchError",
    "OAuthError",
    "UnknownHandleError",
    "ListenFailedError",
    "ServerUnreachableError",
    "InvalidIdTokenError",
    "InteractionRequiredError",
    "StorageUnavailableError",
    "ConnectionClosedError",
    "SidecarNotFoundError",
    "ERRORS_BY_CODE",
    "error_from_response",
]


class SidecarError(Exception):
    """An error answered by the sidecar (or, for :class:`ConnectionClosedError`, the loss of the sidecar).

    ``code`` is the JSON-RPC error code, ``message`` the sidecar's sentence, ``data`` the error's ``data``
    object (a dict, or ``None``). Subclasses add the fields of ``data`` as attributes.
    """

    #: The JSON-RPC error code of the class; ``None`` for errors that are not protocol errors.
    CODE: Optional[int] = None
    #: The name of the error in the schema's ``components.errors``.
    SCHEMA_NAME: Optional[str] = None
    #: ``data`` member (camelCase) -> attribute (snake_case).
    DATA_FIELDS: Mapping[str, str] = {}

    def __init__(self, code: Optional[int], message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data
        fields = data if isinstance(data, dict) else {}
        for wire, attribute in self.DATA_FIELDS.items():
            setattr(self, attribute, fields.get(wire))

    def __str__(self) -> str:
        return self.message if self.code is None else f"{self.message} (code {self.code})"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r}, data={self.data!r})"

    def __reduce__(self):  # picklable across processes
        return (type(self), (self.code, self.message, self.data))


class _ProtocolError(SidecarError):
    """Base of the per-code classes (constructed like :class:`SidecarError`: ``(code, message, data)``)."""


# JSON-RPC 2.0 standard errors.
class ParseError(_ProtocolError):
    """-32700: a message was not valid JSON; the sidecar skipped it and keeps serving."""

    CODE = -32700
    SCHEMA_NAME = "ParseError"


class InvalidRequestError(_ProtocolError):
    """-32600: the JSON was not a valid JSON-RPC request, or it was larger than the limit."""

    CODE = -32600
    SCHEMA_NAME = "InvalidRequest"


class MethodNotFoundError(_ProtocolError):
    """-32601: the method does not exist."""

    CODE = -32601
    SCHEMA_NAME = "MethodNotFound"


class InvalidParamsError(_ProtocolError):
    """-32602: a parameter is missing, unknown or of the wrong type or value.

    ``.field`` names it with the protocol's camelCase path (``clientId``, ``callback.timeoutSeconds``);
    an empty string means the whole parameter object.
    """

    CODE = -32602
    SCHEMA_NAME = "InvalidParams"
    DATA_FIELDS = {"field": "field"}
    field: Optional[str]


class InternalError(_ProtocolError):
    """-32603: a bug in the sidecar; it keeps serving."""

    CODE = -32603
    SCHEMA_NAME = "InternalError"


# LSP.
class RequestCancelledError(_ProtocolError):
    """-32800: the request was cancelled (``$/cancelRequest``, a client-side timeout or cancel, ``cancelFlow``)."""

    CODE = -32800
    SCHEMA_NAME = "RequestCancelled"


# The sidecar's own codes.
class FlowTimeoutError(_ProtocolError):
    """-32001: an interactive wait ran out (``.flow_id``, ``.timeout_seconds``); the flow stays alive.

    Named so that it does not shadow the builtin ``TimeoutError``.
    """

    CODE = -32001
    SCHEMA_NAME = "Timeout"
    DATA_FIELDS = {"flowId": "flow_id", "timeoutSeconds": "timeout_seconds"}
    flow_id: Optional[str]
    timeout_seconds: Optional[float]


class StateMismatchError(_ProtocolError):
    """-32002: an authorization response's ``state`` or ``iss`` (RFC 9207) does not match (``.flow_id``, ``.reason``)."""

    CODE = -32002
    SCHEMA_NAME = "StateMismatch"
    DATA_FIELDS = {"flowId": "flow_id", "reason": "reason"}
    flow_id: Optional[str]
    reason: Optional[str]


class OAuthError(_ProtocolError):
    """-32003: the authorization server answered an OAuth error.

    ``.error`` (``invalid_client``, ``invalid_grant``, ``access_denied``...), ``.error_description``,
    ``.error_uri``, ``.status`` (the HTTP status), as the server sent them.
    """

    CODE = -32003
    SCHEMA_NAME = "OAuthError"
    DATA_FIELDS = {"error": "error", "errorDescription": "error_description", "errorUri": "error_uri", "status": "status"}
    error: Optional[str]
    error_description: Optional[str]
    error_uri: Optional[str]
    status: Optional[int]


class UnknownHandleError(_ProtocolError):
    """-32004: no flow or client has that handle (``.flow_id`` or ``.client_handle``)."""

    CODE = -32004
    SCHEMA_NAME = "UnknownHandle"
    DATA_FIELDS = {"flowId": "flow_id", "clientHandle": "client_handle"}
    flow_id: Optional[str]
    client_handle: Optional[str]


class ListenFailedError(_ProtocolError):
    """-32005: the loopback listener could not start (``.host``, ``.port``, ``.reason``)."""

    CODE = -32005
    SCHEMA_NAME = "ListenFailed"
    DATA_FIELDS = {"host": "host", "port": "port", "reason": "reason"}
    host: Optional[str]
    port: Optional[int]
    reason: Optional[str]


class ServerUnreachableError(_ProtocolError):
    """-32006: the authorization server could not be used: network, TLS, HTTP error, not JSON (``.url``, ``.status``, ``.reason``)."""

    CODE = -32006
    SCHEMA_NAME = "ServerUnreachable"
    DATA_FIELDS = {"url": "url", "status": "status", "reason": "reason"}
    url: Optional[str]
    status: Optional[int]
    reason: Optional[str]


class InvalidIdTokenError(_ProtocolError):
    """-32007: the id_token failed OpenID Connect Core 3.1.3.7 validation (``.reason``)."""

    CODE = -32007
    SCHEMA_NAME = "InvalidIdToken"
    DATA_FIELDS = {"reason": "reason"}
    reason: Optional[str]


class InteractionRequiredError(_ProtocolError):
    """-32008: ``get_credentials(interactive="none")`` found nothing usable in the store."""

    CODE = -32008
    SCHEMA_NAME = "InteractionRequired"


class StorageUnavailableError(_ProtocolError):
    """-32009: the credential store cannot be used (``.backend``, ``.reason``)."""

    CODE = -32009
    SCHEMA_NAME = "StorageUnavailable"
    DATA_FIELDS = {"backend": "backend", "reason": "reason"}
    backend: Optional[str]
    reason: Optional[str]


class ConnectionClosedError(SidecarError):
    """The sidecar process ended (or its pipes closed) before answering. ``.stderr`` has its last lines."""

    def __init__(self, message: str, stderr: str = "") -> None:
        super().__init__(None, message, None)
        self.stderr = stderr

    def __reduce__(self):
        return (type(self), (self.message, self.stderr))


class SidecarNotFoundError(FileNotFoundError):
    """No sidecar executable could be found (see :func:`oauth_sidecar.find_sidecar`)."""


#: Every protocol error class by its code.
ERRORS_BY_CODE: Dict[int, Type[SidecarError]] = {
    cls.CODE: cls
    for cls in (
        ParseError, InvalidRequestError, MethodNotFoundError, InvalidParamsError, InternalError,
        RequestCancelledError, FlowTimeoutError, StateMismatchError, OAuthError, UnknownHandleError,
        ListenFailedError, ServerUnreachableError, InvalidIdTokenError, InteractionRequiredError,
        StorageUnavailableError,
    )
}


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
