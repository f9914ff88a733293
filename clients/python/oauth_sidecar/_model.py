"""The base of the protocol's dataclasses (:class:`Model`) and the behaviour a few of them add.

The dataclasses themselves are generated from the schema into ``_types.py``; this module holds what is written
by hand: JSON <-> dataclass conversion, and the extras of :class:`~oauth_sidecar.Pages` (flytekit's
``EndpointMetadata`` and ``bytes`` pages) and :class:`~oauth_sidecar.LogMessage` (``.level``).
"""

from __future__ import annotations

import dataclasses
import logging
import re
from dataclasses import field
from typing import Any, ClassVar, Dict, List, Mapping, Optional, Type, TypeVar

__all__ = ["Model", "camel_case", "snake_case", "extra_field", "nested", "PagesBehaviour", "LogMessageBehaviour"]

M = TypeVar("M", bound="Model")

_CAPITAL = re.compile(r"(?<!^)(?=[A-Z])")


def camel_case(name: str) -> str:
    """``client_handle`` -> ``clientHandle``, ``certificate_sha256`` -> ``certificateSha256``."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def snake_case(name: str) -> str:
    """``clientHandle`` -> ``client_handle``, ``window/logMessage`` -> ``log_message`` (the part after ``/``)."""
    name = name.rsplit("/", 1)[-1]
    return _CAPITAL.sub("_", name).lower()


def extra_field() -> Any:
    """The ``extra`` field of every model: members this client does not know, as received."""
    return field(default_factory=dict, repr=False, compare=False)


def nested(model: Type["Model"]) -> Dict[str, Any]:
    """Field metadata: the member's value is another model (or a list of them)."""
    return {"model": model}


class Model:
    """Base of every protocol dataclass: JSON <-> dataclass with unknown members kept in ``extra``."""

    #: Wire names that differ from ``camel_case(field name)``: {field name: wire name}.
    WIRE_NAMES: ClassVar[Mapping[str, str]] = {}

    extra: Dict[str, Any]

    @classmethod
    def _fields(cls) -> List[dataclasses.Field]:
        return [f for f in dataclasses.fields(cls) if f.name != "extra"]  # type: ignore[arg-type]

    @classmethod
    def wire_name(cls, field_name: str) -> str:
        return cls.WIRE_NAMES.get(field_name, camel_case(field_name))

    @classmethod
    def wire_names(cls) -> Dict[str, str]:
        """{wire name: field name} of every known member."""
        return {cls.wire_name(f.name): f.name for f in cls._fields()}

    @classmethod
    def from_json(cls: Type[M], data: Any) -> M:
        """Builds the dataclass from a JSON object; unknown members go to ``extra``."""
        if isinstance(data, cls):
            return data
        if not isinstance(data, Mapping):
            raise TypeError(f"{cls.__name__} expects a JSON object, not {type(data).__name__}")
        by_wire = {cls.wire_name(f.name): f for f in cls._fields()}
        values: Dict[str, Any] = {}
        extra: Dict[str, Any] = {}
        for key, value in data.items():
            f = by_wire.get(key)
            if f is None:
                extra[key] = value
                continue
            nested_cls = f.metadata.get("model")
            if nested_cls is not None and value is not None:
                value = [nested_cls.from_json(v) for v in value] if isinstance(value, list) else nested_cls.from_json(value)
            values[f.name] = value
        return cls(**values, extra=extra)  # type: ignore[call-arg]

    def to_json(self) -> Dict[str, Any]:
        """The JSON object (camelCase), without ``None`` members, with ``extra`` merged in."""
        out: Dict[str, Any] = {}
        for f in self._fields():
            value = getattr(self, f.name)
            if value is None:
                continue
            if isinstance(value, Model):
                value = value.to_json()
            elif isinstance(value, list):
                value = [v.to_json() if isinstance(v, Model) else v for v in value]
            out[self.wire_name(f.name)] = value
        for key, value in (getattr(self, "extra", None) or {}).items():
            out.setdefault(key, value)
        return out

    @classmethod
    def coerce(cls, value: Any) -> Optional[Dict[str, Any]]:
        """Turns a parameter given as an instance, or as a dict with camelCase or snake_case keys, into wire JSON.

        Keys that are neither are passed through unchanged (the sidecar then names them in an
        :class:`~oauth_sidecar.InvalidParamsError`).
        """
        if value is None:
            return None
        if isinstance(value, cls):
            return value.to_json()
        if isinstance(value, Model):
            value = value.to_json()
        if not isinstance(value, Mapping):
            raise TypeError(f"expected {cls.__name__} or a dict, not {type(value).__name__}")
        by_wire = {cls.wire_name(f.name): f for f in cls._fields()}
        by_field = {f.name: f for f in cls._fields()}
        out: Dict[str, Any] = {}
        for key, item in value.items():
            f = by_wire.get(key) or by_field.get(key)
            if f is None:
                out[key] = item
                continue
            if item is None:
                continue
            nested_cls = f.metadata.get("model")
            if nested_cls is not None:
                item = nested_cls.coerce(item)
            out[cls.wire_name(f.name)] = item
        return out


def _decode_pages(out: Dict[str, Any]) -> Dict[str, Any]:
    for key in ("successHtml", "errorHtml"):
        if isinstance(out.get(key), (bytes, bytearray, memoryview)):
            out[key] = bytes(out[key]).decode("utf-8")
    return out


class PagesBehaviour:
    """The loopback server's success and error pages (``pages``; flytekit ``EndpointMetadata``).

    ``success_html`` and ``error_html`` may be ``bytes`` (decoded as UTF-8), as flytekit's
    ``EndpointMetadata.success_html`` / ``failure_html`` are. :meth:`coerce` also accepts an
    ``EndpointMetadata`` object itself, or a dict with ``failure_html``.
    """

    # Accepted aliases (flytekit): failure_html -> errorHtml.
    ALIASES: ClassVar[Mapping[str, str]] = {"failure_html": "error_html", "failureHtml": "error_html"}

    def to_json(self) -> Dict[str, Any]:
        return _decode_pages(super().to_json())  # type: ignore[misc]

    @classmethod
    def coerce(cls, value: Any) -> Optional[Dict[str, Any]]:
        if value is None:
            return None
        if not isinstance(value, (Mapping, Model)) and (
                hasattr(value, "success_html") or hasattr(value, "failure_html")):
            # flytekit.clients.auth.auth_client.EndpointMetadata (duck-typed: flytekit is not a dependency).
            value = {"success_html": getattr(value, "success_html", None),
                     "error_html": getattr(value, "failure_html", None)}
        if isinstance(value, Mapping):
            value = {cls.ALIASES.get(k, k): v for k, v in value.items()}
        return _decode_pages(super().coerce(value) or {})  # type: ignore[misc]


class LogMessageBehaviour:
    """``window/logMessage`` (LSP): ``type`` 1 error, 2 warning, 3 info, 4 log. Secrets are redacted."""

    type: Optional[int]

    @property
    def level(self) -> int:
        """The matching :mod:`logging` level."""
        return {1: logging.ERROR, 2: logging.WARNING, 3: logging.INFO}.get(self.type or 4, logging.DEBUG)
