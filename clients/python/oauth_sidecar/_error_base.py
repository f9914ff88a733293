"""The base classes of the sidecar's errors (the per-code classes are generated into ``_error_codes.py``)."""

from __future__ import annotations

from typing import Any, Mapping, Optional

__all__ = ["SidecarError"]


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
