"""The notification callbacks, shared by :class:`AsyncSidecar` and :class:`Sidecar` (each subscribes its own way)."""

from __future__ import annotations

from typing import Any, Callable, Optional, Type, TypeVar

from ._params import protocol_method
from ._types import (
    CallbackReceived,
    DeviceCode,
    DeviceFlowPending,
    LogMessage,
    Model,
    RefreshTokenRemoved,
    RefreshTokenUpdated,
    TokensObtained,
)

H = TypeVar("H", bound=Callable[..., Any])


class NotificationCallbacks:
    """One ``on_<notification>(handler)`` per sidecar notification; usable as a decorator (returns ``handler``)."""

    def _subscribe(self, method: str, model: Optional[Type[Model]], handler: Callable[[Any], Any]) -> None:
        raise NotImplementedError

    @protocol_method("callbackReceived")
    def on_callback_received(self, handler: H) -> H:
        """``handler(CallbackReceived)``: the loopback server received a flow's authorization response."""
        self._subscribe("callbackReceived", CallbackReceived, handler)
        return handler

    @protocol_method("deviceFlowPending")
    def on_device_flow_pending(self, handler: H) -> H:
        """``handler(DeviceFlowPending)``: a device-flow poll answered authorization_pending or slow_down."""
        self._subscribe("deviceFlowPending", DeviceFlowPending, handler)
        return handler

    @protocol_method("deviceCode")
    def on_device_code(self, handler: H) -> H:
        """``handler(DeviceCode)``: ``get_credentials(interactive="device")`` needs the user to enter a code."""
        self._subscribe("deviceCode", DeviceCode, handler)
        return handler

    @protocol_method("tokensObtained")
    def on_tokens_obtained(self, handler: H) -> H:
        """``handler(TokensObtained)`` (MSAL ``on_obtaining_tokens``; no token values)."""
        self._subscribe("tokensObtained", TokensObtained, handler)
        return handler

    @protocol_method("refreshTokenUpdated")
    def on_refresh_token_updated(self, handler: H) -> H:
        """``handler(RefreshTokenUpdated)`` (MSAL ``on_updating_rt``): persist ``.refresh_token`` if you keep it."""
        self._subscribe("refreshTokenUpdated", RefreshTokenUpdated, handler)
        return handler

    @protocol_method("refreshTokenRemoved")
    def on_refresh_token_removed(self, handler: H) -> H:
        """``handler(RefreshTokenRemoved)`` (MSAL ``on_removing_rt``): forget that refresh token."""
        self._subscribe("refreshTokenRemoved", RefreshTokenRemoved, handler)
        return handler

    @protocol_method("window/logMessage")
    def on_log_message(self, handler: H) -> H:
        """``handler(LogMessage)``: the sidecar's log (``.type`` 1 error .. 4 debug; ``.level`` for logging)."""
        self._subscribe("window/logMessage", LogMessage, handler)
        return handler
