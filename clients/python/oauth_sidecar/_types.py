"""Dataclasses for the protocol's results, notifications and structured parameters.

Results are built from the sidecar's JSON with :meth:`Model.from_json`: each camelCase member becomes a
snake_case attribute, and members this version of the client does not know are kept in ``extra`` (a dict,
camelCase keys as on the wire), so a newer sidecar never breaks an older client. ``to_json()`` goes back.

Values that are secrets (access, refresh and id tokens, authorization codes) are left out of ``repr()``.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any, ClassVar, Dict, List, Mapping, Optional, Type, TypeVar

__all__ = [
    "Model",
    "camel_case",
    "snake_case",
    # inputs
    "ClientInfo",
    "ClientCapabilities",
    "ServerConfiguration",
    "TlsOptions",
    "PrivateKey",
    "Pages",
    "CallbackTls",
    "CallbackOptions",
    # results
    "ServerInfo",
    "ServerCapabilities",
    "InitializeResult",
    "CreateClientResult",
    "AuthCodeFlow",
    "CallbackResult",
    "TokenResult",
    "DeviceFlow",
    "AuthResponse",
    "CallbackServer",
    "AccountInfo",
    # notifications and server requests
    "CallbackReceived",
    "DeviceFlowPending",
    "DeviceCode",
    "TokensObtained",
    "RefreshTokenUpdated",
    "RefreshTokenRemoved",
    "LogMessage",
    "ShowDocumentRequest",
]

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


def _extra() -> Any:
    return field(default_factory=dict, repr=False, compare=False)


def _model(cls_or_name: Any = None):
    """Field metadata: the member's value is another model (or a list of them)."""
    return {"model": cls_or_name}


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
            nested = f.metadata.get("model")
            if nested is not None and value is not None:
                nested_cls = _resolve(nested)
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
            nested = f.metadata.get("model")
            if nested is not None:
                item = _resolve(nested).coerce(item)
            out[cls.wire_name(f.name)] = item
        return out


def _resolve(ref: Any) -> Type[Model]:
    return globals()[ref] if isinstance(ref, str) else ref


# ---------------------------------------------------------------------------------------------
# Structured parameters (also accepted as dicts, camelCase or snake_case).


@dataclass
class ClientInfo(Model):
    """``initialize``'s ``clientInfo``: who is calling, for the sidecar's log."""

    name: Optional[str] = None
    version: Optional[str] = None
    extra: Dict[str, Any] = _extra()


@dataclass
class ClientCapabilities(Model):
    """``initialize``'s ``capabilities``. ``show_document=True``: the sidecar asks *us* to open the browser."""

    show_document: Optional[bool] = None
    extra: Dict[str, Any] = _extra()


@dataclass
class ServerConfiguration(Model):
    """The authorization server's endpoints (``createClient``'s ``serverConfiguration``, and its result)."""

    issuer: Optional[str] = None
    authorization_endpoint: Optional[str] = None
    token_endpoint: Optional[str] = None
    device_authorization_endpoint: Optional[str] = None
    revocation_endpoint: Optional[str] = None
    jwks_uri: Optional[str] = None
    introspection_endpoint: Optional[str] = None
    authorization_response_iss_parameter_supported: Optional[bool] = None
    pushed_authorization_request_endpoint: Optional[str] = None
    require_pushed_authorization_requests: Optional[bool] = None
    dpop_signing_alg_values_supported: Optional[List[str]] = None
    extra: Dict[str, Any] = _extra()


@dataclass
class TlsOptions(Model):
    """``createClient``'s ``tls`` (flytekit ``verify``): a CA bundle, or no verification (development only)."""

    ca_bundle_path: Optional[str] = None
    insecure_skip_verify: Optional[bool] = None
    extra: Dict[str, Any] = _extra()


@dataclass
class PrivateKey(Model):
    """``createClient``'s ``privateKey`` for ``private_key_jwt``: a PEM file or PEM text, kid and alg."""

    pem_file: Optional[str] = None
    pem: Optional[str] = field(default=None, repr=False)
    key_id: Optional[str] = None
    algorithm: Optional[str] = None
    extra: Dict[str, Any] = _extra()


@dataclass
class Pages(Model):
    """The loopback server's success and error pages (``pages``; flytekit ``EndpointMetadata``).

    ``success_html`` and ``error_html`` may be ``bytes`` (decoded as UTF-8), as flytekit's
    ``EndpointMetadata.success_html`` / ``failure_html`` are. :meth:`coerce` also accepts an
    ``EndpointMetadata`` object itself, or a dict with ``failure_html``.
    """

    success_html_path: Optional[str] = None
    error_html_path: Optional[str] = None
    success_html: Optional[Any] = None
    error_html: Optional[Any] = None
    extra: Dict[str, Any] = _extra()

    # Accepted aliases (flytekit): failure_html -> errorHtml.
    ALIASES: ClassVar[Mapping[str, str]] = {"failure_html": "error_html", "failureHtml": "error_html"}

    def to_json(self) -> Dict[str, Any]:
        out = super().to_json()
        for key in ("successHtml", "errorHtml"):
            if isinstance(out.get(key), (bytes, bytearray, memoryview)):
                out[key] = bytes(out[key]).decode("utf-8")
        return out

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
        out = super().coerce(value) or {}
        for key in ("successHtml", "errorHtml"):
            if isinstance(out.get(key), (bytes, bytearray, memoryview)):
                out[key] = bytes(out[key]).decode("utf-8")
        return out


@dataclass
class CallbackTls(Model):
    """The loopback server's certificate: a PEM pair, or ``adhoc=True`` for an in-memory self-signed one."""

    cert_file: Optional[str] = None
    key_file: Optional[str] = None
    adhoc: Optional[bool] = None
    extra: Dict[str, Any] = _extra()


@dataclass
class CallbackOptions(Model):
    """``initiateAuthCodeFlow``'s ``callback``: the loopback listener's TLS, timeout, non-loopback host."""

    tls: Optional[CallbackTls] = field(default=None, metadata=_model("CallbackTls"))
    timeout_seconds: Optional[float] = None
    allow_non_loopback: Optional[bool] = None
    extra: Dict[str, Any] = _extra()


# ---------------------------------------------------------------------------------------------
# Results.


@dataclass
class ServerInfo(Model):
    name: Optional[str] = None
    version: Optional[str] = None
    extra: Dict[str, Any] = _extra()


@dataclass
class ServerCapabilities(Model):
    grant_types: Optional[List[str]] = None
    callback_schemes: Optional[List[str]] = None
    storage: Optional[List[str]] = None
    extra: Dict[str, Any] = _extra()


@dataclass
class InitializeResult(Model):
    """``initialize``: the sidecar's name and version, protocol version and capabilities."""

    server_info: Optional[ServerInfo] = field(default=None, metadata=_model("ServerInfo"))
    protocol_version: Optional[str] = None
    capabilities: Optional[ServerCapabilities] = field(default=None, metadata=_model("ServerCapabilities"))
    extra: Dict[str, Any] = _extra()


@dataclass
class CreateClientResult(Model):
    """``createClient``: the handle that names the client in later calls, and the discovered endpoints.

    Pass it (or ``.client_handle``) wherever a ``client_handle`` is expected.
    """

    client_handle: Optional[str] = None
    server_configuration: Optional[ServerConfiguration] = field(default=None, metadata=_model("ServerConfiguration"))
    extra: Dict[str, Any] = _extra()


@dataclass
class AuthCodeFlow(Model):
    """``initiateAuthCodeFlow``: open ``auth_uri`` in a browser; the loopback server listens on ``redirect_uri``."""

    flow_id: Optional[str] = None
    auth_uri: Optional[str] = None
    state: Optional[str] = None
    redirect_uri: Optional[str] = None
    expires_at: Optional[int] = None
    certificate_sha256: Optional[str] = None
    extra: Dict[str, Any] = _extra()


@dataclass
class CallbackResult(Model):
    """What the loopback server received (callback.py's shape): ``params`` (carries the code), method, path."""

    params: Optional[Dict[str, str]] = field(default=None, repr=False)
    method: Optional[str] = None
    path: Optional[str] = None
    received_at: Optional[int] = None
    extra: Dict[str, Any] = _extra()


@dataclass
class TokenResult(Model):
    """Tokens. ``raw`` is the token endpoint's JSON as the server sent it (RFC spelling).

    ``account`` is set by ``get_credentials`` (and by grants that identify a user). Token values are not
    in ``repr()``.
    """

    access_token: Optional[str] = field(default=None, repr=False)
    token_type: Optional[str] = None
    expires_in: Optional[int] = None
    expires_at: Optional[int] = None
    refresh_token: Optional[str] = field(default=None, repr=False)
    id_token: Optional[str] = field(default=None, repr=False)
    id_token_claims: Optional[Dict[str, Any]] = field(default=None, repr=False)
    scopes: Optional[List[str]] = None
    raw: Optional[Dict[str, Any]] = field(default=None, repr=False)
    account: Optional[str] = None
    #: With ``token_type`` ``"DPoP"``: the thumbprint of the key the tokens are bound to (RFC 9449).
    jkt: Optional[str] = None
    extra: Dict[str, Any] = _extra()


@dataclass
class DpopProof(Model):
    """``createDpopProof``: the ``DPoP`` header for one request (use it once, before ``expires_at``), and the key's ``jkt``."""

    proof: Optional[str] = field(default=None, repr=False)
    jkt: Optional[str] = None
    expires_at: Optional[int] = None
    extra: Dict[str, Any] = _extra()


@dataclass
class DeviceFlow(Model):
    """``initiateDeviceFlow``: show ``message`` (or ``user_code`` and ``verification_uri``) to the user."""

    flow_id: Optional[str] = None
    user_code: Optional[str] = None
    verification_uri: Optional[str] = None
    verification_uri_complete: Optional[str] = None
    expires_in: Optional[int] = None
    expires_at: Optional[int] = None
    interval: Optional[int] = None
    message: Optional[str] = None
    extra: Dict[str, Any] = _extra()


@dataclass
class AuthResponse(Model):
    """``parseAuthResponse``: the authorization response's members, and every parameter in ``params``."""

    code: Optional[str] = field(default=None, repr=False)
    state: Optional[str] = None
    iss: Optional[str] = None
    error: Optional[str] = None
    error_description: Optional[str] = None
    error_uri: Optional[str] = None
    params: Optional[Dict[str, str]] = field(default=None, repr=False)
    extra: Dict[str, Any] = _extra()


@dataclass
class CallbackServer(Model):
    """``startCallbackServer``: wait on ``flow_id`` with ``wait_for_callback``; ``url`` is where it listens."""

    flow_id: Optional[str] = None
    url: Optional[str] = None
    certificate_sha256: Optional[str] = None
    extra: Dict[str, Any] = _extra()


@dataclass
class AccountInfo(Model):
    """``listAccounts``: a signed-in account (no secrets)."""

    account: Optional[str] = None
    client_id: Optional[str] = None
    issuer: Optional[str] = None
    scopes: Optional[List[str]] = None
    expires_at: Optional[int] = None
    username: Optional[str] = None
    extra: Dict[str, Any] = _extra()


# ---------------------------------------------------------------------------------------------
# Notifications and the one request the sidecar sends.


@dataclass
class CallbackReceived(Model):
    """``callbackReceived``: the loopback server received a flow's authorization response (carries the code)."""

    flow_id: Optional[str] = None
    params: Optional[Dict[str, str]] = field(default=None, repr=False)
    method: Optional[str] = None
    path: Optional[str] = None
    received_at: Optional[int] = None
    extra: Dict[str, Any] = _extra()


@dataclass
class DeviceFlowPending(Model):
    """``deviceFlowPending``: a poll answered ``authorization_pending`` or ``slow_down``."""

    flow_id: Optional[str] = None
    attempt: Optional[int] = None
    error: Optional[str] = None
    next_poll_seconds: Optional[int] = None
    extra: Dict[str, Any] = _extra()


@dataclass
class DeviceCode(Model):
    """``deviceCode``: ``get_credentials(interactive="device")`` started a device flow; show the code."""

    flow_id: Optional[str] = None
    user_code: Optional[str] = None
    verification_uri: Optional[str] = None
    verification_uri_complete: Optional[str] = None
    message: Optional[str] = None
    expires_at: Optional[int] = None
    extra: Dict[str, Any] = _extra()


@dataclass
class TokensObtained(Model):
    """``tokensObtained``: tokens were obtained (no token values; ``grant_type`` is the RFC value)."""

    client_handle: Optional[str] = None
    flow_id: Optional[str] = None
    grant_type: Optional[str] = None
    scopes: Optional[List[str]] = None
    expires_at: Optional[int] = None
    extra: Dict[str, Any] = _extra()


@dataclass
class RefreshTokenUpdated(Model):
    """``refreshTokenUpdated`` (MSAL ``on_updating_rt``): the server rotated the refresh token; persist it."""

    client_handle: Optional[str] = None
    account: Optional[str] = None
    refresh_token: Optional[str] = field(default=None, repr=False)
    extra: Dict[str, Any] = _extra()


@dataclass
class RefreshTokenRemoved(Model):
    """``refreshTokenRemoved`` (MSAL ``on_removing_rt``): a refresh token was refused; forget it."""

    client_handle: Optional[str] = None
    account: Optional[str] = None
    reason: Optional[str] = None
    extra: Dict[str, Any] = _extra()


@dataclass
class LogMessage(Model):
    """``window/logMessage`` (LSP): ``type`` 1 error, 2 warning, 3 info, 4 log. Secrets are redacted."""

    type: Optional[int] = None
    message: Optional[str] = None
    extra: Dict[str, Any] = _extra()

    @property
    def level(self) -> int:
        """The matching :mod:`logging` level."""
        import logging

        return {1: logging.ERROR, 2: logging.WARNING, 3: logging.INFO}.get(self.type or 4, logging.DEBUG)


@dataclass
class ShowDocumentRequest(Model):
    """``window/showDocument`` (LSP 3.16): open ``uri`` (the authorization request) in the system browser."""

    uri: Optional[str] = None
    external: Optional[bool] = None
    extra: Dict[str, Any] = _extra()
