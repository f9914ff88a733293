"""From Python keyword arguments to the protocol's camelCase parameter objects."""

from __future__ import annotations

from typing import Any, Callable, Dict, Mapping, Type, TypeVar

from ._types import PARAM_MODELS, AuthResponse, CallbackResult, Model, camel_case

__all__ = ["protocol_method", "wire_params", "CLIENT_ONLY_ARGUMENTS", "PROTOCOL_ATTRIBUTE"]

F = TypeVar("F", bound=Callable[..., Any])

#: Attribute set on every method that sends one protocol message: the message's method name.
PROTOCOL_ATTRIBUTE = "__sidecar_method__"

#: Keyword arguments of the client's methods that are not protocol parameters.
CLIENT_ONLY_ARGUMENTS = frozenset({"self", "timeout", "cancel"})

#: Python argument names whose wire name is not ``camel_case(name)``.
WIRE_NAMES: Mapping[str, str] = {"request_id": "id"}

#: Free-form string maps: passed as they are (their keys are OAuth parameter names, never converted).
_MAPS = frozenset({"extraAuthParams", "extraTokenParams", "extraRefreshParams", "extraParams", "headers",
                   "authResponse", "params"})


def protocol_method(name: str) -> Callable[[F], F]:
    """Marks a client method as the one that sends the protocol message ``name``."""

    def mark(fn: F) -> F:
        setattr(fn, PROTOCOL_ATTRIBUTE, name)
        return fn

    return mark


def _handle(value: Any, attribute: str) -> Any:
    # A CreateClientResult / AuthCodeFlow / DeviceFlow / CallbackServer is accepted for its handle.
    if isinstance(value, str) or value is None:
        return value
    return getattr(value, attribute, value)


def _scopes(value: Any) -> Any:
    if isinstance(value, str):
        return value.split()
    if isinstance(value, (list, tuple, set, frozenset)):
        return [str(s) for s in value]
    return value


def _convert(wire: str, value: Any, structs: Mapping[str, Type[Model]]) -> Any:
    if wire == "clientHandle":
        return _handle(value, "client_handle")
    if wire == "flowId":
        return _handle(value, "flow_id")
    if wire == "scopes":
        return _scopes(value)
    if wire == "resource" and isinstance(value, (list, tuple, set, frozenset)):
        return [str(r) for r in value]
    if wire == "clientInfo" and isinstance(value, str):
        return {"name": value}
    struct = structs.get(wire)
    if struct is not None:
        return struct.coerce(value)
    if wire in _MAPS:
        if isinstance(value, (CallbackResult, AuthResponse)):
            value = value.params or {}
        if isinstance(value, Mapping):
            return {str(k): v for k, v in value.items()}
        return value
    if isinstance(value, Model):
        return value.to_json()
    return value


def wire_params(method: str, arguments: Mapping[str, Any]) -> Dict[str, Any]:
    """The parameter object of ``method`` for a client method's ``locals()``: ``None`` left out, names in camelCase.

    Structured parameters (the schema's objects, :data:`~oauth_sidecar._types.PARAM_MODELS`) may be given as
    dataclasses or as dicts with camelCase or snake_case keys.
    """
    structs: Mapping[str, Type[Model]] = PARAM_MODELS.get(method, {})
    out: Dict[str, Any] = {}
    for name, value in arguments.items():
        if name in CLIENT_ONLY_ARGUMENTS or name.startswith("_") or value is None:
            continue
        wire = WIRE_NAMES.get(name, camel_case(name))
        out[wire] = _convert(wire, value, structs)
    return out
