"""The asyncio client: :class:`AsyncSidecar`."""

from __future__ import annotations

import asyncio
import collections
import inspect
import logging
import os
import sys
from typing import Any, Callable, Deque, Dict, List, Mapping, Optional, Sequence, Tuple, Type, TypeVar, Union

from ._callbacks import NotificationCallbacks
from ._errors import SidecarError
from ._params import PROTOCOL_ATTRIBUTE, protocol_method, wire_params
from ._rpc import LSP, JsonRpcConnection, MessageHook
from ._spawn import Executable, find_sidecar, sidecar_arguments
from ._types import (
    SERVER_NOTIFICATIONS,
    SERVER_REQUESTS,
    AccountInfo,
    AssertionGrantType,
    AuthCodeFlow,
    AuthResponse,
    CallbackOptions,
    CallbackResult,
    CallbackScheme,
    CallbackServer,
    CallbackTls,
    ClientCapabilities,
    ClientInfo,
    CreateClientResult,
    DeviceFlow,
    DpopProof,
    DpopSetting,
    InitializeResult,
    InteractionMode,
    Model,
    Pages,
    ParMode,
    ParseChallengeResult,
    PrivateKey,
    PromptRedirect,
    Provider,
    ResponseMode,
    ServerConfiguration,
    ShowDocumentRequest,
    StorageBackend,
    TlsOptions,
    TokenEndpointAuthMethod,
    TokenResult,
    snake_case,
)

__all__ = ["AsyncSidecar", "SERVER_MESSAGES", "CLIENT_NAME", "__version__"]

__version__ = "0.1.0"
CLIENT_NAME = "oauth-sidecar-python"

log = logging.getLogger("oauth_sidecar")
stderr_log = logging.getLogger("oauth_sidecar.stderr")

M = TypeVar("M", bound=Model)
Handler = Callable[[Any], Any]
H = TypeVar("H", bound=Callable[..., Any])

#: Messages the sidecar sends: wire name -> (registration method, dataclass of its params).
SERVER_MESSAGES: Mapping[str, Tuple[str, Type[Model]]] = {
    wire: ("on_" + snake_case(wire), model) for wire, model in {**SERVER_NOTIFICATIONS, **SERVER_REQUESTS}.items()
}

Scopes = Union[str, Sequence[str]]
#: RFC 8707 resource indicators: one absolute URI, or several (protocol 1.1).
Resources = Union[str, Sequence[str]]
Handle = Union[str, Any]  # a handle string, or a result object carrying it (CreateClientResult, AuthCodeFlow...)

STDERR_LINES = 200


def _key(method: str, handler: Any) -> Tuple[str, Any]:
    """Handlers are found again by equality (a bound method like ``list.append`` is a new object each time)."""
    try:
        hash(handler)
        return (method, handler)
    except TypeError:
        return (method, id(handler))


def _show_document_result(outcome: Any) -> Dict[str, Any]:
    """A handler's return value as the LSP result: ``None`` counts as opened; ``{"success": x}`` is read."""
    if isinstance(outcome, Mapping) and "success" in outcome:
        outcome = outcome["success"]
    return {"success": True if outcome is None else bool(outcome)}


class AsyncSidecar(NotificationCallbacks):
    """An ``oauth-sidecar`` process driven with asyncio.

    ::

        async with await AsyncSidecar.spawn() as sidecar:
            await sidecar.initialize()
            client = await sidecar.create_client(issuer="https://login.example.com", client_id="my-cli",
                                                 scopes=["openid", "offline_access"])
            flow = await sidecar.initiate_device_flow(client)
            print(flow.message)
            tokens = await sidecar.obtain_token_by_device_flow(flow)

    Every protocol request is a coroutine method with snake_case keyword arguments; results are dataclasses
    (unknown members in ``.extra``); errors are :class:`~oauth_sidecar.SidecarError` subclasses. Cancelling
    the task that awaits a call sends ``$/cancelRequest`` (use :func:`asyncio.wait_for` for a timeout).
    Notification callbacks may be plain functions (called in order, on the event loop, before the
    response that follows them is delivered) or coroutine functions (run as tasks).
    """

    def __init__(self, connection: JsonRpcConnection, process: Optional[asyncio.subprocess.Process] = None) -> None:
        self._connection = connection
        self._process = process
        self._stderr: Deque[str] = collections.deque(maxlen=STDERR_LINES)
        self._stderr_task: Optional[asyncio.Task] = None
        self._wrappers: Dict[Tuple[str, Any], Handler] = {}
        self._show_document_handler: Optional[Handler] = None
        self._prompt_redirect_handler: Optional[Handler] = None
        self._closed = False
        #: The result of the last ``initialize``.
        self.initialize_result: Optional[InitializeResult] = None
        connection.start()

    # -- creating and closing ---------------------------------------------------------------

    @classmethod
    async def spawn(
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
    ) -> "AsyncSidecar":
        """Starts the sidecar (see :func:`~oauth_sidecar.find_sidecar` for ``executable``) and connects to it.

        ``framing``: ``"lsp"`` (Content-Length, the default) or ``"newline"``. ``storage`` and ``log_level``
        become ``--storage`` / ``--log-level``; ``args`` are more options. ``env`` replaces the environment.
        The sidecar's stderr is always drained: each line goes to ``on_stderr`` if given, else to the
        ``oauth_sidecar.stderr`` logger at DEBUG; the last lines are kept in :attr:`stderr_tail`.
        ``message_hook(direction, message, method)`` sees every raw message (for logging and tests).
        """
        command = find_sidecar(executable) + sidecar_arguments(
            framing=framing, storage=storage, log_level=log_level, args=args)
        kwargs: Dict[str, Any] = {}
        if sys.platform == "win32":  # pragma: no cover - no console window for the child
            kwargs["creationflags"] = 0x08000000  # CREATE_NO_WINDOW
        process = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=dict(env) if env is not None else None,
            cwd=os.fspath(cwd) if cwd is not None else None,
            limit=64 * 1024 * 1024,
            **kwargs,
        )
        assert process.stdin is not None and process.stdout is not None
        holder: List[AsyncSidecar] = []
        connection = JsonRpcConnection(
            process.stdout, process.stdin, framing=framing, message_hook=message_hook,  # type: ignore[arg-type]
            describe_close=lambda: holder[0]._describe_close() if holder else ("", ""))
        sidecar = cls(connection, process)
        holder.append(sidecar)
        sidecar._stderr_task = asyncio.ensure_future(sidecar._drain_stderr(process.stderr, on_stderr))
        return sidecar

    @classmethod
    def connect(
        cls,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        framing: str = LSP,
        message_hook: Optional[MessageHook] = None,
    ) -> "AsyncSidecar":
        """Connects to a sidecar over streams you opened yourself (a socket, an SSH channel...)."""
        return cls(JsonRpcConnection(reader, writer, framing=framing, message_hook=message_hook))

    async def __aenter__(self) -> "AsyncSidecar":
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.close()

    async def close(self, timeout: float = 5.0) -> Optional[int]:
        """``shutdown``, ``exit``, end of input; waits ``timeout`` s for the process, then kills it.

        Returns the exit code (``None`` without a process). Safe to call twice.
        """
        if not self._closed:
            self._closed = True
            if not self._connection.closed:
                try:
                    await asyncio.wait_for(self._connection.request("shutdown"), timeout)
                    self._connection.notify("exit")
                    await asyncio.wait_for(self._connection.drain(), timeout)
                except (SidecarError, asyncio.TimeoutError, ConnectionError):
                    pass
            await self._connection.close()
        if self._process is not None:
            if self._process.returncode is None:
                try:
                    await asyncio.wait_for(self._process.wait(), timeout)
                except asyncio.TimeoutError:
                    log.warning("The sidecar did not exit within %s s; killing it.", timeout)
                    try:
                        self._process.kill()
                    except ProcessLookupError:  # pragma: no cover
                        pass
                    await self._process.wait()
            if self._stderr_task is not None:
                try:
                    await asyncio.wait_for(self._stderr_task, timeout)
                except (asyncio.TimeoutError, asyncio.CancelledError):
                    self._stderr_task.cancel()
            return self._process.returncode
        return None

    @property
    def process(self) -> Optional[asyncio.subprocess.Process]:
        return self._process

    @property
    def returncode(self) -> Optional[int]:
        return self._process.returncode if self._process is not None else None

    @property
    def stderr_tail(self) -> str:
        """The last lines the sidecar wrote to stderr (diagnostics; secrets are redacted by the sidecar)."""
        return "\n".join(self._stderr)

    @property
    def connection(self) -> JsonRpcConnection:
        """The low-level JSON-RPC connection."""
        return self._connection

    @property
    def received(self) -> int:
        """Messages received so far."""
        return self._connection.received

    async def wait_closed(self) -> None:
        """Waits until the sidecar's output ends (the process exited or closed stdout)."""
        await self._connection.wait_closed()

    async def _drain_stderr(self, stream: Optional[asyncio.StreamReader], on_stderr: Optional[Callable[[str], None]]) -> None:
        if stream is None:
            return
        while True:
            try:
                line = await stream.readline()
            except (ValueError, asyncio.LimitOverrunError):  # a very long line: skip what is buffered
                continue
            except Exception:  # pragma: no cover
                return
            if not line:
                return
            text = line.decode("utf-8", "replace").rstrip("\r\n")
            self._stderr.append(text)
            if on_stderr is not None:
                try:
                    on_stderr(text)
                except Exception:
                    log.exception("on_stderr failed")
            else:
                stderr_log.debug("%s", text)

    def _describe_close(self) -> Tuple[str, str]:
        code = self.returncode
        return ("" if code is None else f"exit code {code}", self.stderr_tail)

    # -- low level ----------------------------------------------------------------------------

    async def request(self, method: str, params: Any = None) -> Any:
        """Sends any request and returns its raw JSON result (raises a :class:`SidecarError` subclass)."""
        return await self._connection.request(method, params)

    async def notify(self, method: str, params: Any = None) -> None:
        """Sends any notification."""
        self._connection.notify(method, params)
        await self._connection.drain()

    def add_message_hook(self, hook: MessageHook) -> None:
        """``hook(direction, message, method)`` sees every raw message, sent and received."""
        self._connection.add_message_hook(hook)

    def on_notification(self, method: str, handler: H) -> H:
        """Calls ``handler(params)`` (raw JSON) for each notification ``method``. Returns ``handler``."""
        self._connection.on_notification(method, handler)
        return handler

    def on_request(self, method: str, handler: Optional[Handler]) -> None:
        """Answers the sidecar's requests ``method`` with ``handler(params)`` (raw JSON in and out)."""
        self._connection.on_request(method, handler)

    def off(self, method: str, handler: Handler) -> bool:
        """Removes a handler registered for the notification ``method`` (wire name, e.g. ``tokensObtained``)."""
        wrapper = self._wrappers.pop(_key(method, handler), handler)
        return self._connection.remove_notification_handler(method, wrapper)

    def _subscribe(self, method: str, model: Type[M], handler: Callable[[M], Any]) -> None:
        def wrapper(params: Any) -> Any:
            return handler(model.from_json(params or {}))

        self._wrappers[_key(method, handler)] = wrapper
        self._connection.on_notification(method, wrapper)

    # -- notification callbacks ---------------------------------------------------------------

    @protocol_method("window/showDocument")
    def on_show_document(self, handler: Optional[H]) -> Optional[H]:
        """Answers ``window/showDocument``: ``handler(ShowDocumentRequest)`` opens ``.uri`` and returns
        ``True`` (or ``None``) if it did, ``False`` if it could not (any other value counts by its truth; an
        exception is logged and answered ``success: false``); it may be a coroutine function.

        The sidecar sends it only if ``initialize`` declared ``capabilities={"show_document": True}``
        (which :meth:`initialize` does by itself when a handler is set and ``capabilities`` is not given).
        ``None`` removes the handler.
        """
        self._show_document_handler = handler
        if handler is None:
            self._connection.on_request("window/showDocument", None)
            return None

        async def answer(params: Any) -> Dict[str, Any]:
            request = ShowDocumentRequest.from_json(params or {})
            try:
                outcome = handler(request)
                if inspect.isawaitable(outcome):
                    outcome = await outcome
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("The window/showDocument handler failed")
                return {"success": False}
            return _show_document_result(outcome)

        self._connection.on_request("window/showDocument", answer)
        return handler

    @protocol_method("auth/promptRedirect")
    def on_prompt_redirect(self, handler: Optional[H]) -> Optional[H]:
        """Answers ``auth/promptRedirect``, the paste path of :meth:`get_credentials` (``interactive="paste"``,
        and the last step of ``"auto"``) for a user whose browser cannot reach this machine (SSH, containers).

        ``handler(PromptRedirect)`` shows ``.message`` (``.auth_uri`` is the address to open on any machine) and
        returns the address the browser ended on (a ``str``, or anything with ``url``), or ``None`` to decline;
        it may be a coroutine function. When ``.error`` is set, the previous answer was refused (``.error.code``
        -32002: another sign-in's ``state``/``iss``; -32602: not a redirect address) and the same sign-in is
        still open: show it and ask again. The call is cancelled when the sign-in completed another way (the
        loopback server received the redirect first). :meth:`initialize` declares
        ``capabilities.promptRedirect`` when a handler is set. ``None`` removes the handler.
        """
        self._prompt_redirect_handler = handler
        if handler is None:
            self._connection.on_request("auth/promptRedirect", None)
            return None

        async def answer(params: Any) -> Dict[str, Any]:
            outcome = handler(PromptRedirect.from_json(params or {}))
            if inspect.isawaitable(outcome):
                outcome = await outcome
            if isinstance(outcome, Mapping):
                outcome = outcome.get("url")
            elif outcome is not None and not isinstance(outcome, str):
                outcome = getattr(outcome, "url", None)
            if not outcome:
                raise SidecarError(-32800, "The user did not paste an address.")
            return {"url": str(outcome).strip()}

        self._connection.on_request("auth/promptRedirect", answer)
        return handler

    # -- lifecycle ----------------------------------------------------------------------------

    @protocol_method("initialize")
    async def initialize(
        self,
        *,
        client_info: Optional[Union[ClientInfo, Mapping[str, Any], str]] = None,
        capabilities: Optional[Union[ClientCapabilities, Mapping[str, Any]]] = None,
        storage: Optional[StorageBackend] = None,
    ) -> InitializeResult:
        """Declares who we are and what we can do; returns the sidecar's version and capabilities.

        ``client_info`` defaults to this library's name and version. ``capabilities`` defaults to
        ``{"showDocument": True}`` when :meth:`on_show_document` has a handler, and ``{"promptRedirect": True}``
        when :meth:`on_prompt_redirect` has one. ``storage``:
        ``"keyring"``, ``"file"`` or ``"memory"`` (the process default). Optional: the sidecar works without it.
        """
        if client_info is None:
            client_info = ClientInfo(name=CLIENT_NAME, version=__version__)
        if capabilities is None and (self._show_document_handler is not None or self._prompt_redirect_handler is not None):
            capabilities = ClientCapabilities(
                show_document=True if self._show_document_handler is not None else None,
                prompt_redirect=True if self._prompt_redirect_handler is not None else None,
            )
        result = InitializeResult.from_json(await self.request("initialize", wire_params("initialize", locals())))
        self.initialize_result = result
        return result

    @protocol_method("initialized")
    async def initialized(self) -> None:
        """The LSP ``initialized`` notification (accepted and ignored by the sidecar)."""
        await self.notify("initialized")

    @protocol_method("shutdown")
    async def shutdown(self) -> None:
        """Ends every flow and closes every listener; then send :meth:`exit` (or use :meth:`close`)."""
        await self.request("shutdown")

    @protocol_method("exit")
    async def exit(self) -> None:
        """The ``exit`` notification: the process ends (code 0 after ``shutdown``, else 1)."""
        await self.notify("exit")

    @protocol_method("$/cancelRequest")
    async def cancel_request(self, request_id: Union[int, str]) -> None:
        """Sends ``$/cancelRequest`` for one of our request ids (cancelling an awaiting task does it for you)."""
        await self.notify("$/cancelRequest", wire_params("$/cancelRequest", locals()))

    # -- clients ------------------------------------------------------------------------------

    @protocol_method("createClient")
    async def create_client(
        self,
        issuer: Optional[str] = None,
        *,
        client_id: str,
        server_configuration: Optional[Union[ServerConfiguration, Mapping[str, Any]]] = None,
        client_secret: Optional[str] = None,
        client_assertion: Optional[str] = None,
        private_key: Optional[Union[PrivateKey, Mapping[str, Any]]] = None,
        token_endpoint_auth_method: Optional[TokenEndpointAuthMethod] = None,
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
        storage: Optional[StorageBackend] = None,
        provider: Optional[Provider] = None,
        authority: Optional[str] = None,
        resource: Optional[Resources] = None,
        redirect_uri: Optional[str] = None,
        dpop: Optional[Union[DpopSetting, Mapping[str, Any]]] = None,
        par: Optional[ParMode] = None,
        allow_insecure_http: Optional[bool] = None,
    ) -> CreateClientResult:
        """Registers a client: ``issuer`` (discovery), ``server_configuration`` (explicit endpoints), or
        ``provider`` (``"github"``, ``"gitlab"``, ``"google"``, ``"entra"``, ``"okta"``, ``"auth0"``, ``"keycloak"``)
        with its ``authority``; the result's ``quirks`` say what the preset set. ``resource`` (RFC 8707) is sent
        with every authorization, redemption and refresh; ``redirect_uri`` is the default of browser sign-ins.

        ``pages`` accepts :class:`Pages`, a dict, or flytekit's ``EndpointMetadata`` (``bytes`` HTML is
        decoded as UTF-8). Pass the result (or its ``client_handle``) to the grant methods. ``dpop=True`` (or
        ``{"alg": "RS256"}``, :class:`DpopOptions`) binds the tokens to keys the sidecar keeps (RFC 9449); ``par`` is ``"auto"``
        (default), ``"always"`` or ``"never"`` (RFC 9126). ``allow_insecure_http=True`` accepts plain http endpoints on hosts that are not loopback (test servers only).
        """
        return CreateClientResult.from_json(await self.request("createClient", wire_params("createClient", locals())))

    @protocol_method("disposeClient")
    async def dispose_client(self, client_handle: Handle) -> None:
        """Forgets a client and ends its flows."""
        await self.request("disposeClient", wire_params("disposeClient", locals()))

    # -- authorization code flow --------------------------------------------------------------

    @protocol_method("initiateAuthCodeFlow")
    async def initiate_auth_code_flow(
        self,
        client_handle: Handle,
        *,
        scopes: Optional[Scopes] = None,
        redirect_uri: Optional[str] = None,
        state: Optional[str] = None,
        login_hint: Optional[str] = None,
        prompt: Optional[str] = None,
        response_mode: Optional[ResponseMode] = None,
        extra_params: Optional[Mapping[str, str]] = None,
        callback: Optional[Union[CallbackOptions, Mapping[str, Any]]] = None,
        open_browser: Optional[bool] = None,
        resource: Optional[Resources] = None,
    ) -> AuthCodeFlow:
        """Starts the flow (PKCE, state, nonce, the loopback listener) and, unless ``open_browser=False``,
        opens the browser (through :meth:`on_show_document` if declared)."""
        return AuthCodeFlow.from_json(await self.request("initiateAuthCodeFlow", wire_params("initiateAuthCodeFlow", locals())))

    @protocol_method("waitForCallback")
    async def wait_for_callback(self, flow_id: Handle, *, timeout_seconds: Optional[float] = None) -> CallbackResult:
        """Waits for the flow's (or callback server's) callback; returns at once if it already arrived."""
        return CallbackResult.from_json(await self.request("waitForCallback", wire_params("waitForCallback", locals())))

    @protocol_method("obtainTokenByAuthCodeFlow")
    async def obtain_token_by_auth_code_flow(
        self,
        flow_id: Handle,
        *,
        auth_response: Optional[Union[Mapping[str, str], CallbackResult, AuthResponse]] = None,
        scopes: Optional[Scopes] = None,
    ) -> TokenResult:
        """Waits for the callback if needed, checks it and redeems the code."""
        return TokenResult.from_json(await self.request("obtainTokenByAuthCodeFlow", wire_params("obtainTokenByAuthCodeFlow", locals())))

    @protocol_method("cancelFlow")
    async def cancel_flow(self, flow_id: Handle) -> None:
        """Ends a flow; calls waiting on it fail with :class:`~oauth_sidecar.RequestCancelledError`."""
        await self.request("cancelFlow", wire_params("cancelFlow", locals()))

    @protocol_method("obtainTokenByBrowser")
    async def obtain_token_by_browser(
        self,
        client_handle: Handle,
        *,
        scopes: Optional[Scopes] = None,
        redirect_uri: Optional[str] = None,
        state: Optional[str] = None,
        login_hint: Optional[str] = None,
        prompt: Optional[str] = None,
        response_mode: Optional[ResponseMode] = None,
        extra_params: Optional[Mapping[str, str]] = None,
        callback: Optional[Union[CallbackOptions, Mapping[str, Any]]] = None,
        open_browser: Optional[bool] = None,
        resource: Optional[Resources] = None,
    ) -> TokenResult:
        """Initiate, open the browser, wait, redeem: one call."""
        return TokenResult.from_json(await self.request("obtainTokenByBrowser", wire_params("obtainTokenByBrowser", locals())))

    @protocol_method("buildAuthRequestUri")
    async def build_auth_request_uri(
        self,
        client_handle: Handle,
        response_type: str,
        *,
        redirect_uri: Optional[str] = None,
        scopes: Optional[Scopes] = None,
        state: Optional[str] = None,
        extra_params: Optional[Mapping[str, str]] = None,
    ) -> str:
        """MSAL's low-level builder (no PKCE, no state kept): returns the URI."""
        result = await self.request("buildAuthRequestUri", wire_params("buildAuthRequestUri", locals()))
        return result["uri"]

    @protocol_method("parseAuthResponse")
    async def parse_auth_response(
        self,
        *,
        params: Optional[Mapping[str, str]] = None,
        query: Optional[str] = None,
        url: Optional[str] = None,
        state: Optional[str] = None,
    ) -> AuthResponse:
        """Parses one of ``params``, ``query`` or ``url``; checks ``state`` when given."""
        return AuthResponse.from_json(await self.request("parseAuthResponse", wire_params("parseAuthResponse", locals())))

    @protocol_method("obtainTokenByAuthorizationCode")
    async def obtain_token_by_authorization_code(
        self,
        client_handle: Handle,
        code: str,
        *,
        redirect_uri: Optional[str] = None,
        code_verifier: Optional[str] = None,
        nonce: Optional[str] = None,
        scopes: Optional[Scopes] = None,
    ) -> TokenResult:
        """Redeems a code obtained elsewhere (RFC 6749 4.1.3)."""
        return TokenResult.from_json(await self.request("obtainTokenByAuthorizationCode", wire_params("obtainTokenByAuthorizationCode", locals())))

    # -- device flow and other grants ---------------------------------------------------------

    @protocol_method("initiateDeviceFlow")
    async def initiate_device_flow(self, client_handle: Handle, *, scopes: Optional[Scopes] = None) -> DeviceFlow:
        """Asks for a device code (RFC 8628); show ``.message`` to the user."""
        return DeviceFlow.from_json(await self.request("initiateDeviceFlow", wire_params("initiateDeviceFlow", locals())))

    @protocol_method("obtainTokenByDeviceFlow")
    async def obtain_token_by_device_flow(self, flow_id: Handle) -> TokenResult:
        """Polls until the user approves (``deviceFlowPending`` notifications meanwhile)."""
        return TokenResult.from_json(await self.request("obtainTokenByDeviceFlow", wire_params("obtainTokenByDeviceFlow", locals())))

    @protocol_method("refresh")
    async def refresh(self, client_handle: Handle, refresh_token: Union[str, TokenResult], *,
                      scopes: Optional[Scopes] = None, resource: Optional[Resources] = None) -> TokenResult:
        """Redeems a refresh token; a rotated one is announced by ``refreshTokenUpdated``."""
        if isinstance(refresh_token, TokenResult):
            refresh_token = refresh_token.refresh_token  # type: ignore[assignment]
        return TokenResult.from_json(await self.request("refresh", wire_params("refresh", locals())))

    @protocol_method("createDpopProof")
    async def create_dpop_proof(self, client_handle: Handle, htm: str, htu: str, *, account: Optional[str] = None,
                                access_token: Optional[Union[str, TokenResult]] = None,
                                nonce: Optional[str] = None) -> DpopProof:
        """A DPoP proof (RFC 9449 §7) for your own request: send ``proof`` as the ``DPoP`` header."""
        if isinstance(access_token, TokenResult):
            access_token = access_token.access_token
        return DpopProof.from_json(await self.request("createDpopProof", wire_params("createDpopProof", locals())))

    @protocol_method("obtainTokenForClient")
    async def obtain_token_for_client(self, client_handle: Handle, *, scopes: Optional[Scopes] = None,
                                      resource: Optional[str] = None) -> TokenResult:
        """The client credentials grant."""
        return TokenResult.from_json(await self.request("obtainTokenForClient", wire_params("obtainTokenForClient", locals())))

    @protocol_method("obtainTokenByUsernamePassword")
    async def obtain_token_by_username_password(self, client_handle: Handle, username: str, password: str, *,
                                                scopes: Optional[Scopes] = None) -> TokenResult:
        """The password grant."""
        return TokenResult.from_json(await self.request("obtainTokenByUsernamePassword", wire_params("obtainTokenByUsernamePassword", locals())))

    @protocol_method("obtainTokenByAssertion")
    async def obtain_token_by_assertion(self, client_handle: Handle, assertion: str, grant_type: AssertionGrantType, *,
                                        scopes: Optional[Scopes] = None) -> TokenResult:
        """The JWT (RFC 7523) or SAML 2.0 (RFC 7522) bearer grant."""
        return TokenResult.from_json(await self.request("obtainTokenByAssertion", wire_params("obtainTokenByAssertion", locals())))

    # -- credential store ---------------------------------------------------------------------

    @protocol_method("getCredentials")
    async def get_credentials(self, client_handle: Handle, *, scopes: Optional[Scopes] = None,
                              interactive: Optional[InteractionMode] = None, account: Optional[str] = None,
                              resource: Optional[Resources] = None, claims: Optional[str] = None,
                              acr_values: Optional[Sequence[str]] = None, max_age: Optional[int] = None) -> TokenResult:
        """A stored token with min(5 minutes, half its lifetime) left, else a silent refresh, else a sign-in
        (``interactive``: ``"auto"`` (default: the browser, else the device flow, else pasting), ``"browser"``,
        ``"device"``, ``"paste"`` or ``"none"``); ``.method`` says which. A step-up (``claims``, ``acr_values``,
        ``max_age``, as :meth:`parse_challenge` reads them from a ``WWW-Authenticate`` header) is not served by a
        stored token whose sign-in does not satisfy it."""
        return TokenResult.from_json(await self.request("getCredentials", wire_params("getCredentials", locals())))

    @protocol_method("parseChallenge")
    async def parse_challenge(self, www_authenticate: str) -> ParseChallengeResult:
        """Reads a resource's ``WWW-Authenticate`` header (RFC 6750 §3, RFC 9470 step-up, Entra claims challenges,
        RFC 9728 ``resource_metadata``); pass its ``acr_values``, ``max_age`` and ``claims`` to :meth:`get_credentials`."""
        return ParseChallengeResult.from_json(await self.request("parseChallenge", wire_params("parseChallenge", locals())))

    @protocol_method("listAccounts")
    async def list_accounts(self, client_handle: Optional[Handle] = None) -> List[AccountInfo]:
        """The signed-in accounts (of one client, or of the store)."""
        result = await self.request("listAccounts", wire_params("listAccounts", locals()))
        return [AccountInfo.from_json(item) for item in result or []]

    @protocol_method("signOut")
    async def sign_out(self, client_handle: Handle, *, account: Optional[str] = None) -> None:
        """Revokes and forgets one account (or every account of the client)."""
        await self.request("signOut", wire_params("signOut", locals()))

    # -- standalone callback server -----------------------------------------------------------

    @protocol_method("startCallbackServer")
    async def start_callback_server(
        self,
        *,
        host: Optional[str] = None,
        port: Optional[int] = None,
        path: Optional[str] = None,
        scheme: Optional[CallbackScheme] = None,
        tls: Optional[Union[CallbackTls, Mapping[str, Any]]] = None,
        pages: Optional[Union[Pages, Mapping[str, Any], Any]] = None,
        timeout_seconds: Optional[float] = None,
        allow_non_loopback: Optional[bool] = None,
    ) -> CallbackServer:
        """callback.py as a call: listens (https by default, port 8080 by default; 0 = any); then
        :meth:`wait_for_callback` with ``.flow_id`` and :meth:`stop_callback_server`."""
        return CallbackServer.from_json(await self.request("startCallbackServer", wire_params("startCallbackServer", locals())))

    @protocol_method("stopCallbackServer")
    async def stop_callback_server(self, flow_id: Handle) -> None:
        """Stops a standalone callback server."""
        await self.request("stopCallbackServer", wire_params("stopCallbackServer", locals()))


def protocol_methods(cls: type) -> Dict[str, str]:
    """{wire name: Python method name} of a client class (used by the protocol tests)."""
    out: Dict[str, str] = {}
    for name in dir(cls):
        wire = getattr(getattr(cls, name, None), PROTOCOL_ATTRIBUTE, None)
        if wire is not None:
            out[wire] = name
    return out
