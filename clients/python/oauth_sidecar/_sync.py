"""The blocking client: :class:`Sidecar`, for scripts. An asyncio loop runs in a background thread."""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import logging
import os
import threading
import time
from typing import Any, Callable, Deque, Dict, List, Mapping, Optional, Sequence, Tuple, Type, TypeVar, Union

from ._async import CLIENT_NAME, AsyncSidecar, Handle, Scopes, __version__, _key  # noqa: F401
from ._callbacks import NotificationCallbacks
from ._errors import ConnectionClosedError, RequestCancelledError, SidecarError
from ._params import protocol_method, wire_params
from ._rpc import LSP, MessageHook, Response
from ._spawn import Executable
from ._types import (
    AccountInfo,
    AuthCodeFlow,
    AuthResponse,
    CallbackOptions,
    CallbackResult,
    CallbackServer,
    CallbackTls,
    ClientCapabilities,
    ClientInfo,
    CreateClientResult,
    DeviceFlow,
    DpopProof,
    InitializeResult,
    Model,
    Pages,
    PrivateKey,
    ServerConfiguration,
    ShowDocumentRequest,
    TlsOptions,
    TokenResult,
)

__all__ = ["Sidecar", "CancelToken"]

log = logging.getLogger("oauth_sidecar")

M = TypeVar("M", bound=Model)
H = TypeVar("H", bound=Callable[..., Any])

#: After a cancel or a timeout, how long to wait for the sidecar's answer (-32800, or a late result).
CANCEL_GRACE_SECONDS = 5.0
#: How often a plain ``threading.Event`` given as ``cancel`` is looked at.
EVENT_POLL_SECONDS = 0.05


class CancelToken:
    """Cancels blocking calls from another thread: pass ``cancel=token`` to any call, then ``token.cancel()``.

    The call sends ``$/cancelRequest`` and raises :class:`~oauth_sidecar.RequestCancelledError` (or returns
    the result if the sidecar finished first). One token may cancel several calls. A plain
    :class:`threading.Event` works too (it is polled every 50 ms).
    """

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._callbacks: List[Callable[[], None]] = []

    def cancel(self) -> None:
        with self._lock:
            if self._event.is_set():
                return
            self._event.set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            try:
                callback()
            except Exception:  # pragma: no cover
                log.exception("A cancel callback failed")

    set = cancel  # threading.Event's spelling

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: Optional[float] = None) -> bool:
        return self._event.wait(timeout)

    def add_callback(self, callback: Callable[[], None]) -> None:
        with self._lock:
            if not self._event.is_set():
                self._callbacks.append(callback)
                return
        callback()

    def remove_callback(self, callback: Callable[[], None]) -> None:
        with self._lock:
            self._callbacks = [c for c in self._callbacks if c is not callback]


Cancel = Union[CancelToken, threading.Event]


class _Dispatcher:
    """Runs the user's callbacks, in the order the messages arrived, on one thread of their own.

    So callbacks may block and may call the blocking client; and a call returns only after the callbacks
    of the notifications received before its response have run (unless it is made from a callback).
    """

    _STOP = object()

    def __init__(self) -> None:
        self._items: Deque[Tuple[int, Any, Any, Optional[concurrent.futures.Future]]] = collections.deque()
        self._cond = threading.Condition()
        self._current: Optional[int] = None
        self._thread: Optional[threading.Thread] = None
        self._stopped = False

    def submit(self, seq: int, fn: Callable[[Any], Any], arg: Any, want_result: bool = False) -> Optional[concurrent.futures.Future]:
        future: Optional[concurrent.futures.Future] = concurrent.futures.Future() if want_result else None
        with self._cond:
            if self._stopped:
                if future is not None:
                    future.set_exception(ConnectionClosedError("The sidecar client is closed."))
                return future
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="oauth-sidecar-callbacks", daemon=True)
                self._thread.start()
            self._items.append((seq, fn, arg, future))
            self._cond.notify_all()
        return future

    def in_dispatcher(self) -> bool:
        return threading.current_thread() is self._thread

    def wait_processed(self, seq: int, timeout: Optional[float] = None) -> None:
        """Waits until the callbacks of messages numbered below ``seq`` have run."""
        if self.in_dispatcher():
            return

        def done() -> bool:
            if self._stopped:
                return True
            if self._current is not None and self._current < seq:
                return False
            return not (self._items and self._items[0][0] < seq)

        with self._cond:
            self._cond.wait_for(done, timeout)

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            thread = self._thread
            self._items.append((0, self._STOP, None, None))
            self._cond.notify_all()
        if thread is not None and thread is not threading.current_thread():
            thread.join(5)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._items:
                    self._cond.wait()
                seq, fn, arg, future = self._items.popleft()
                if fn is self._STOP:
                    for _, _, _, pending in self._items:
                        if pending is not None and not pending.done():
                            pending.set_exception(ConnectionClosedError("The sidecar client is closed."))
                    self._items.clear()
                    self._cond.notify_all()
                    return
                self._current = seq
            try:
                outcome = fn(arg)
                if future is not None:
                    future.set_result(outcome)
            except BaseException as e:  # noqa: BLE001 - reported, never kills the thread
                if future is not None:
                    future.set_exception(e)
                else:
                    log.exception("A notification callback failed")
            finally:
                with self._cond:
                    self._current = None
                    self._cond.notify_all()


class Sidecar(NotificationCallbacks):
    """An ``oauth-sidecar`` process driven with plain blocking calls::

        with Sidecar.spawn() as sidecar:
            client = sidecar.create_client(issuer="https://login.example.com", client_id="my-cli",
                                           scopes=["openid", "offline_access"])
            tokens = sidecar.obtain_token_by_browser(client)

    Each call accepts ``timeout=`` (seconds) and ``cancel=`` (a :class:`CancelToken` or
    :class:`threading.Event`): when either fires, ``$/cancelRequest`` is sent and
    :class:`~oauth_sidecar.RequestCancelledError` raised (if the sidecar finished first, its result is
    returned: a token answer is never lost). Ctrl-C also sends ``$/cancelRequest``.

    Callbacks (``on_tokens_obtained``...) run on a thread of their own, in message order; they may block
    and may call this client. A call returns after the callbacks of the notifications that preceded its
    response have run. Thread-safe: calls may be made from several threads at once.
    """

    def __init__(self, async_sidecar: AsyncSidecar, loop: asyncio.AbstractEventLoop, thread: threading.Thread) -> None:
        self._async = async_sidecar
        self._loop = loop
        self._thread = thread
        self._dispatcher = _Dispatcher()
        self._wrappers: Dict[Tuple[str, Any], Callable[[Any], Any]] = {}
        self._closed = False
        self._returncode: Optional[int] = None

    # -- creating and closing ---------------------------------------------------------------

    @classmethod
    def spawn(
        cls,
        executable: Optional[Executable] = None,
        *,
        framing: str = LSP,
        storage: Optional[str] = None,
        log_level: Optional[str] = None,
        args: Sequence[str] = (),
        env: Optional[Mapping[str, str]] = None,
        cwd: Optional[Union[str, "os.PathLike[str]"]] = None,
        message_hook: Optional[MessageHook] = None,
        on_stderr: Optional[Callable[[str], None]] = None,
    ) -> "Sidecar":
        """Starts the sidecar; the options are :meth:`AsyncSidecar.spawn`'s.

        ``message_hook`` and ``on_stderr`` run on the background event loop's thread: keep them short.
        """
        loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(ready.set)
            loop.run_forever()

        thread = threading.Thread(target=run, name="oauth-sidecar-loop", daemon=True)
        thread.start()
        ready.wait()
        try:
            async_sidecar = asyncio.run_coroutine_threadsafe(AsyncSidecar.spawn(
                executable, framing=framing, storage=storage, log_level=log_level, args=args, env=env, cwd=cwd,
                message_hook=message_hook, on_stderr=on_stderr), loop).result()
        except BaseException:
            _stop_loop(loop, thread)
            raise
        return cls(async_sidecar, loop, thread)

    def __enter__(self) -> "Sidecar":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def close(self, timeout: float = 5.0) -> Optional[int]:
        """``shutdown``, ``exit``, end of input; kills the process after ``timeout`` s. Returns its exit code."""
        if self._closed:
            return self._returncode
        self._closed = True
        try:
            if self._loop.is_running():
                self._returncode = asyncio.run_coroutine_threadsafe(
                    self._async.close(timeout), self._loop).result(timeout * 4 + 5)
        finally:
            _stop_loop(self._loop, self._thread)
            self._dispatcher.stop()
        return self._returncode

    @property
    def async_sidecar(self) -> AsyncSidecar:
        """The :class:`AsyncSidecar` underneath (use it only from its loop's thread)."""
        return self._async

    @property
    def returncode(self) -> Optional[int]:
        return self._async.returncode

    @property
    def stderr_tail(self) -> str:
        return self._async.stderr_tail

    @property
    def pid(self) -> Optional[int]:
        process = self._async.process
        return process.pid if process is not None else None

    @property
    def initialize_result(self) -> Optional[InitializeResult]:
        return self._async.initialize_result

    # -- low level ----------------------------------------------------------------------------

    def request(self, method: str, params: Any = None, *, timeout: Optional[float] = None,
                cancel: Optional[Cancel] = None) -> Any:
        """Sends any request and returns its raw JSON result (raises a :class:`SidecarError` subclass)."""
        return self._call(method, params, timeout, cancel)

    def notify(self, method: str, params: Any = None) -> None:
        """Sends any notification."""
        self._on_loop(lambda: self._async.connection.notify(method, params))

    def add_message_hook(self, hook: MessageHook) -> None:
        """``hook(direction, message, method)`` sees every raw message (it runs on the loop's thread)."""
        self._async.add_message_hook(hook)

    def on_notification(self, method: str, handler: H) -> H:
        """Calls ``handler(params)`` (raw JSON) for each notification ``method``, on the callback thread."""
        self._subscribe(method, None, handler)
        return handler

    def off(self, method: str, handler: Callable[..., Any]) -> bool:
        """Removes a callback registered for the notification ``method`` (wire name)."""
        wrapper = self._wrappers.pop(_key(method, handler), None)
        return wrapper is not None and self._async.connection.remove_notification_handler(method, wrapper)

    def _subscribe(self, method: str, model: Optional[Type[Model]], handler: Callable[[Any], Any]) -> None:
        connection = self._async.connection

        def wrapper(params: Any) -> None:  # on the loop, inline: connection.received is this message's number
            value = model.from_json(params or {}) if model is not None else params
            self._dispatcher.submit(connection.received, handler, value)

        self._wrappers[_key(method, handler)] = wrapper
        connection.on_notification(method, wrapper)

    def _on_loop(self, fn: Callable[[], Any]) -> Any:
        """Runs ``fn()`` on the loop's thread and returns its value."""
        if threading.current_thread() is self._thread:
            return fn()
        future: concurrent.futures.Future = concurrent.futures.Future()

        def run() -> None:
            try:
                future.set_result(fn())
            except BaseException as e:  # noqa: BLE001
                future.set_exception(e)

        try:
            self._loop.call_soon_threadsafe(run)
        except RuntimeError:
            raise ConnectionClosedError("The sidecar client is closed.") from None
        return future.result()

    def _call(self, method: str, params: Any, timeout: Optional[float] = None, cancel: Optional[Cancel] = None) -> Any:
        if threading.current_thread() is self._thread:
            raise RuntimeError("Blocking Sidecar calls cannot be made on its event loop thread (e.g. from a message hook).")
        if self._closed:
            raise ConnectionClosedError("The sidecar client is closed.")
        if cancel is not None and cancel.is_set():
            raise RequestCancelledError(RequestCancelledError.CODE, f"{method} was cancelled before it was sent.", None)
        connection = self._async.connection
        wake = threading.Event()
        box: Dict[str, Any] = {}

        def finished(future: asyncio.Future) -> None:
            if future.cancelled():
                box["error"] = RequestCancelledError(RequestCancelledError.CODE, f"{method} was abandoned.", None)
            elif future.exception() is not None:
                box["error"] = future.exception()
            else:
                box["response"] = future.result()
            wake.set()

        def start() -> None:
            try:
                request_id, future = connection.send_request(method, params)
            except BaseException as e:  # noqa: BLE001
                box["error"] = e
                wake.set()
                return
            box["id"] = request_id
            future.add_done_callback(finished)

        def send_cancel() -> None:
            request_id = box.get("id")
            if request_id is not None and not connection.closed and "response" not in box:
                try:
                    connection.cancel(request_id)
                except SidecarError:
                    pass

        try:
            self._loop.call_soon_threadsafe(start)
        except RuntimeError:
            raise ConnectionClosedError("The sidecar client is closed.") from None

        deadline = None if timeout is None else time.monotonic() + timeout
        polled = cancel is not None and not isinstance(cancel, CancelToken)
        if isinstance(cancel, CancelToken):
            cancel.add_callback(wake.set)
        reason: Optional[str] = None
        try:
            while "response" not in box and "error" not in box:
                if cancel is not None and cancel.is_set():
                    reason = "cancelled"
                    break
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    reason = f"the client-side timeout of {timeout} s ran out"
                    break
                step = remaining
                if polled:
                    step = EVENT_POLL_SECONDS if step is None else min(step, EVENT_POLL_SECONDS)
                wake.wait(step)
                wake.clear()
        except KeyboardInterrupt:
            self._loop.call_soon_threadsafe(send_cancel)
            self._loop.call_soon_threadsafe(lambda: connection.abandon(box.get("id")))
            raise
        finally:
            if isinstance(cancel, CancelToken):
                cancel.remove_callback(wake.set)

        if reason is not None and "response" not in box and "error" not in box:
            try:
                self._loop.call_soon_threadsafe(send_cancel)
            except RuntimeError:
                pass
            grace_end = time.monotonic() + CANCEL_GRACE_SECONDS
            while "response" not in box and "error" not in box and time.monotonic() < grace_end:
                wake.wait(grace_end - time.monotonic())
                wake.clear()
            if "response" not in box and "error" not in box:
                try:
                    self._loop.call_soon_threadsafe(lambda: connection.abandon(box.get("id")))
                except RuntimeError:
                    pass
                raise RequestCancelledError(
                    RequestCancelledError.CODE,
                    f"{method} was {reason if reason == 'cancelled' else 'cancelled: ' + reason}; "
                    f"the sidecar did not answer the cancellation within {CANCEL_GRACE_SECONDS:g} s.", None)

        if "error" in box:
            raise box["error"]
        response: Response = box["response"]
        self._dispatcher.wait_processed(response.seq)
        if reason is not None and response.error is not None and response.error.get("code") == RequestCancelledError.CODE:
            raise RequestCancelledError(
                RequestCancelledError.CODE,
                f"{method} was {reason if reason == 'cancelled' else 'cancelled: ' + reason} "
                f"(the sidecar answered: {response.error.get('message')})",
                response.error.get("data"))
        return response.unwrap()

    # -- notification callbacks ---------------------------------------------------------------

    @protocol_method("window/showDocument")
    def on_show_document(self, handler: Optional[H]) -> Optional[H]:
        """Answers ``window/showDocument`` with ``handler(ShowDocumentRequest)`` -> ``True``/``False``, run on the
        callback thread (e.g. ``lambda req: webbrowser.open(req.uri)``). See :meth:`AsyncSidecar.on_show_document`."""
        if handler is None:
            self._on_loop(lambda: self._async.on_show_document(None))
            return None
        connection = self._async.connection
        dispatcher = self._dispatcher

        async def answer(request: ShowDocumentRequest) -> Any:
            future = dispatcher.submit(connection.received, handler, request, want_result=True)
            assert future is not None
            return await asyncio.wrap_future(future)

        self._on_loop(lambda: self._async.on_show_document(answer))
        return handler

    # -- lifecycle ----------------------------------------------------------------------------

    @protocol_method("initialize")
    def initialize(
        self,
        *,
        client_info: Optional[Union[ClientInfo, Mapping[str, Any], str]] = None,
        capabilities: Optional[Union[ClientCapabilities, Mapping[str, Any]]] = None,
        storage: Optional[str] = None,
        timeout: Optional[float] = None,
        cancel: Optional[Cancel] = None,
    ) -> InitializeResult:
        """See :meth:`AsyncSidecar.initialize`."""
        if client_info is None:
            client_info = ClientInfo(name=CLIENT_NAME, version=__version__)
        if capabilities is None and self._async._show_document_handler is not None:
            capabilities = ClientCapabilities(show_document=True)
        result = InitializeResult.from_json(self._call("initialize", wire_params(locals()), timeout, cancel))
        self._async.initialize_result = result
        return result

    @protocol_method("initialized")
    def initialized(self) -> None:
        """The LSP ``initialized`` notification (accepted and ignored)."""
        self.notify("initialized")

    @protocol_method("shutdown")
    def shutdown(self, *, timeout: Optional[float] = None, cancel: Optional[Cancel] = None) -> None:
        """Ends every flow and closes every listener; then :meth:`exit` (or use :meth:`close`)."""
        self._call("shutdown", None, timeout, cancel)

    @protocol_method("exit")
    def exit(self) -> None:
        """The ``exit`` notification: the process ends."""
        self.notify("exit")

    @protocol_method("$/cancelRequest")
    def cancel_request(self, request_id: Union[int, str]) -> None:
        """Sends ``$/cancelRequest`` for a request id (``timeout=``/``cancel=`` do it for you)."""
        self.notify("$/cancelRequest", wire_params(locals()))

    # -- clients ------------------------------------------------------------------------------

    @protocol_method("createClient")
    def create_client(
        self,
        issuer: Optional[str] = None,
        *,
        client_id: str,
        server_configuration: Optional[Union[ServerConfiguration, Mapping[str, Any]]] = None,
        client_secret: Optional[str] = None,
        client_assertion: Optional[str] = None,
        private_key: Optional[Union[PrivateKey, Mapping[str, Any]]] = None,
        token_endpoint_auth_method: Optional[str] = None,
        scopes: Optional[Scopes] = None,
        audience: Optional[str] = None,
        extra_auth_params: Optional[Mapping[str, str]] = None,
        extra_token_params: Optional[Mapping[str, str]] = None,
        extra_refresh_params: Optional[Mapping[str, str]] = None,
        add_auth_params_to_token_request: Optional[bool] = None,
        headers: Optional[Mapping[str, str]] = None,
        timeout_seconds: Optional[float] = None,
        tls: Optional[Union[TlsOptions, Mapping[str, Any]]] = None,
        pages: Optional[Union[Pages, Mapping[str, Any], Any]] = None,
        storage: Optional[str] = None,
        dpop: Optional[Union[bool, Mapping[str, Any]]] = None,
        par: Optional[str] = None,
        timeout: Optional[float] = None,
        cancel: Optional[Cancel] = None,
    ) -> CreateClientResult:
        """See :meth:`AsyncSidecar.create_client`."""
        return CreateClientResult.from_json(self._call("createClient", wire_params(locals()), timeout, cancel))

    @protocol_method("disposeClient")
    def dispose_client(self, client_handle: Handle, *, timeout: Optional[float] = None,
                       cancel: Optional[Cancel] = None) -> None:
        """Forgets a client and ends its flows."""
        self._call("disposeClient", wire_params(locals()), timeout, cancel)

    # -- authorization code flow --------------------------------------------------------------

    @protocol_method("initiateAuthCodeFlow")
    def initiate_auth_code_flow(
        self,
        client_handle: Handle,
        *,
        scopes: Optional[Scopes] = None,
        redirect_uri: Optional[str] = None,
        state: Optional[str] = None,
        login_hint: Optional[str] = None,
        prompt: Optional[str] = None,
        response_mode: Optional[str] = None,
        extra_params: Optional[Mapping[str, str]] = None,
        callback: Optional[Union[CallbackOptions, Mapping[str, Any]]] = None,
        open_browser: Optional[bool] = None,
        timeout: Optional[float] = None,
        cancel: Optional[Cancel] = None,
    ) -> AuthCodeFlow:
        """See :meth:`AsyncSidecar.initiate_auth_code_flow`."""
        return AuthCodeFlow.from_json(self._call("initiateAuthCodeFlow", wire_params(locals()), timeout, cancel))

    @protocol_method("waitForCallback")
    def wait_for_callback(self, flow_id: Handle, *, timeout_seconds: Optional[float] = None,
                          timeout: Optional[float] = None, cancel: Optional[Cancel] = None) -> CallbackResult:
        """Waits for the flow's callback. ``timeout_seconds`` is the sidecar's wait (then
        :class:`FlowTimeoutError`); ``timeout`` is this call's (then :class:`RequestCancelledError`)."""
        return CallbackResult.from_json(self._call("waitForCallback", wire_params(locals()), timeout, cancel))

    @protocol_method("obtainTokenByAuthCodeFlow")
    def obtain_token_by_auth_code_flow(
        self,
        flow_id: Handle,
        *,
        auth_response: Optional[Union[Mapping[str, str], CallbackResult, AuthResponse]] = None,
        scopes: Optional[Scopes] = None,
        timeout: Optional[float] = None,
        cancel: Optional[Cancel] = None,
    ) -> TokenResult:
        """Waits for the callback if needed, checks it and redeems the code."""
        return TokenResult.from_json(self._call("obtainTokenByAuthCodeFlow", wire_params(locals()), timeout, cancel))

    @protocol_method("cancelFlow")
    def cancel_flow(self, flow_id: Handle, *, timeout: Optional[float] = None, cancel: Optional[Cancel] = None) -> None:
        """Ends a flow; calls waiting on it fail with :class:`RequestCancelledError`."""
        self._call("cancelFlow", wire_params(locals()), timeout, cancel)

    @protocol_method("obtainTokenByBrowser")
    def obtain_token_by_browser(
        self,
        client_handle: Handle,
        *,
        scopes: Optional[Scopes] = None,
        redirect_uri: Optional[str] = None,
        state: Optional[str] = None,
        login_hint: Optional[str] = None,
        prompt: Optional[str] = None,
        response_mode: Optional[str] = None,
        extra_params: Optional[Mapping[str, str]] = None,
        callback: Optional[Union[CallbackOptions, Mapping[str, Any]]] = None,
        open_browser: Optional[bool] = None,
        timeout: Optional[float] = None,
        cancel: Optional[Cancel] = None,
    ) -> TokenResult:
        """Initiate, open the browser, wait, redeem: one call (flytekit ``get_creds_from_remote``)."""
        return TokenResult.from_json(self._call("obtainTokenByBrowser", wire_params(locals()), timeout, cancel))

    @protocol_method("buildAuthRequestUri")
    def build_auth_request_uri(
        self,
        client_handle: Handle,
        response_type: str,
        *,
        redirect_uri: Optional[str] = None,
        scopes: Optional[Scopes] = None,
        state: Optional[str] = None,
        extra_params: Optional[Mapping[str, str]] = None,
        timeout: Optional[float] = None,
        cancel: Optional[Cancel] = None,
    ) -> str:
        """MSAL's low-level builder (no PKCE, no state kept): returns the URI."""
        return self._call("buildAuthRequestUri", wire_params(locals()), timeout, cancel)["uri"]

    @protocol_method("parseAuthResponse")
    def parse_auth_response(
        self,
        *,
        params: Optional[Mapping[str, str]] = None,
        query: Optional[str] = None,
        url: Optional[str] = None,
        state: Optional[str] = None,
        timeout: Optional[float] = None,
        cancel: Optional[Cancel] = None,
    ) -> AuthResponse:
        """Parses one of ``params``, ``query`` or ``url``; checks ``state`` when given."""
        return AuthResponse.from_json(self._call("parseAuthResponse", wire_params(locals()), timeout, cancel))

    @protocol_method("obtainTokenByAuthorizationCode")
    def obtain_token_by_authorization_code(
        self,
        client_handle: Handle,
        code: str,
        *,
        redirect_uri: Optional[str] = None,
        code_verifier: Optional[str] = None,
        nonce: Optional[str] = None,
        scopes: Optional[Scopes] = None,
        timeout: Optional[float] = None,
        cancel: Optional[Cancel] = None,
    ) -> TokenResult:
        """Redeems a code obtained elsewhere."""
        return TokenResult.from_json(self._call("obtainTokenByAuthorizationCode", wire_params(locals()), timeout, cancel))

    # -- device flow and other grants ---------------------------------------------------------

    @protocol_method("initiateDeviceFlow")
    def initiate_device_flow(self, client_handle: Handle, *, scopes: Optional[Scopes] = None,
                             timeout: Optional[float] = None, cancel: Optional[Cancel] = None) -> DeviceFlow:
        """Asks for a device code; show ``.message`` to the user."""
        return DeviceFlow.from_json(self._call("initiateDeviceFlow", wire_params(locals()), timeout, cancel))

    @protocol_method("obtainTokenByDeviceFlow")
    def obtain_token_by_device_flow(self, flow_id: Handle, *, timeout: Optional[float] = None,
                                    cancel: Optional[Cancel] = None) -> TokenResult:
        """Polls until the user approves."""
        return TokenResult.from_json(self._call("obtainTokenByDeviceFlow", wire_params(locals()), timeout, cancel))

    @protocol_method("refresh")
    def refresh(self, client_handle: Handle, refresh_token: Union[str, TokenResult], *,
                scopes: Optional[Scopes] = None, timeout: Optional[float] = None,
                cancel: Optional[Cancel] = None) -> TokenResult:
        """Redeems a refresh token; a rotated one is announced by ``refreshTokenUpdated``."""
        if isinstance(refresh_token, TokenResult):
            refresh_token = refresh_token.refresh_token  # type: ignore[assignment]
        return TokenResult.from_json(self._call("refresh", wire_params(locals()), timeout, cancel))

    @protocol_method("createDpopProof")
    def create_dpop_proof(self, client_handle: Handle, htm: str, htu: str, *, account: Optional[str] = None,
                          access_token: Optional[Union[str, TokenResult]] = None, nonce: Optional[str] = None,
                          timeout: Optional[float] = None, cancel: Optional[Cancel] = None) -> DpopProof:
        """A DPoP proof (RFC 9449 §7) for your own request: send ``proof`` as the ``DPoP`` header."""
        if isinstance(access_token, TokenResult):
            access_token = access_token.access_token
        return DpopProof.from_json(self._call("createDpopProof", wire_params(locals()), timeout, cancel))

    @protocol_method("obtainTokenForClient")
    def obtain_token_for_client(self, client_handle: Handle, *, scopes: Optional[Scopes] = None,
                                resource: Optional[str] = None, timeout: Optional[float] = None,
                                cancel: Optional[Cancel] = None) -> TokenResult:
        """The client credentials grant."""
        return TokenResult.from_json(self._call("obtainTokenForClient", wire_params(locals()), timeout, cancel))

    @protocol_method("obtainTokenByUsernamePassword")
    def obtain_token_by_username_password(self, client_handle: Handle, username: str, password: str, *,
                                          scopes: Optional[Scopes] = None, timeout: Optional[float] = None,
                                          cancel: Optional[Cancel] = None) -> TokenResult:
        """The password grant."""
        return TokenResult.from_json(self._call("obtainTokenByUsernamePassword", wire_params(locals()), timeout, cancel))

    @protocol_method("obtainTokenByAssertion")
    def obtain_token_by_assertion(self, client_handle: Handle, assertion: str, grant_type: str, *,
                                  scopes: Optional[Scopes] = None, timeout: Optional[float] = None,
                                  cancel: Optional[Cancel] = None) -> TokenResult:
        """The JWT (RFC 7523) or SAML 2.0 (RFC 7522) bearer grant."""
        return TokenResult.from_json(self._call("obtainTokenByAssertion", wire_params(locals()), timeout, cancel))

    # -- credential store ---------------------------------------------------------------------

    @protocol_method("getCredentials")
    def get_credentials(self, client_handle: Handle, *, scopes: Optional[Scopes] = None,
                        interactive: Optional[str] = None, account: Optional[str] = None,
                        timeout: Optional[float] = None, cancel: Optional[Cancel] = None) -> TokenResult:
        """A stored token valid for 5 more minutes, else a silent refresh, else a sign-in."""
        return TokenResult.from_json(self._call("getCredentials", wire_params(locals()), timeout, cancel))

    @protocol_method("listAccounts")
    def list_accounts(self, client_handle: Optional[Handle] = None, *, timeout: Optional[float] = None,
                      cancel: Optional[Cancel] = None) -> List[AccountInfo]:
        """The signed-in accounts."""
        return [AccountInfo.from_json(item) for item in self._call("listAccounts", wire_params(locals()), timeout, cancel) or []]

    @protocol_method("signOut")
    def sign_out(self, client_handle: Handle, *, account: Optional[str] = None, timeout: Optional[float] = None,
                 cancel: Optional[Cancel] = None) -> None:
        """Revokes and forgets one account (or every account of the client)."""
        self._call("signOut", wire_params(locals()), timeout, cancel)

    # -- standalone callback server -----------------------------------------------------------

    @protocol_method("startCallbackServer")
    def start_callback_server(
        self,
        *,
        host: Optional[str] = None,
        port: Optional[int] = None,
        path: Optional[str] = None,
        scheme: Optional[str] = None,
        tls: Optional[Union[CallbackTls, Mapping[str, Any]]] = None,
        pages: Optional[Union[Pages, Mapping[str, Any], Any]] = None,
        timeout_seconds: Optional[float] = None,
        allow_non_loopback: Optional[bool] = None,
        timeout: Optional[float] = None,
        cancel: Optional[Cancel] = None,
    ) -> CallbackServer:
        """callback.py as a call; then :meth:`wait_for_callback` and :meth:`stop_callback_server`."""
        return CallbackServer.from_json(self._call("startCallbackServer", wire_params(locals(), tls=CallbackTls), timeout, cancel))

    @protocol_method("stopCallbackServer")
    def stop_callback_server(self, flow_id: Handle, *, timeout: Optional[float] = None,
                             cancel: Optional[Cancel] = None) -> None:
        """Stops a standalone callback server."""
        self._call("stopCallbackServer", wire_params(locals()), timeout, cancel)


def _stop_loop(loop: asyncio.AbstractEventLoop, thread: threading.Thread) -> None:
    """Cancels what is left on the loop, stops it, joins its thread and closes it."""
    if loop.is_closed():
        return

    async def cancel_all() -> None:
        current = asyncio.current_task()
        tasks = [t for t in asyncio.all_tasks() if t is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    if loop.is_running() and thread is not threading.current_thread():
        try:
            asyncio.run_coroutine_threadsafe(cancel_all(), loop).result(5)
        except Exception:  # pragma: no cover
            pass
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
    if not loop.is_running():
        try:
            loop.run_until_complete(loop.shutdown_asyncgens())
        except Exception:  # pragma: no cover
            pass
        loop.close()
