"""The blocking client: :class:`Sidecar`, for scripts. An asyncio loop runs in a background thread."""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import functools
import inspect
import logging
import os
import threading
import time
from typing import Any, Awaitable, Callable, Deque, Dict, List, Mapping, Optional, Sequence, Tuple, Type, TypeVar, Union

from ._async import CLIENT_NAME, AsyncSidecar, Handle, Scopes, __version__, _key  # noqa: F401
from ._callbacks import NotificationCallbacks
from ._errors import ConnectionClosedError, RequestCancelledError, SidecarError
from ._params import PROTOCOL_ATTRIBUTE, protocol_method
from ._rpc import LSP, JsonRpcConnection, MessageHook, RequestId, Response
from ._spawn import Executable
from ._types import CLIENT_NOTIFICATIONS, InitializeResult, Model

__all__ = ["Sidecar", "CancelToken"]

log = logging.getLogger("oauth_sidecar")

M = TypeVar("M", bound=Model)
H = TypeVar("H", bound=Callable[..., Any])
R = TypeVar("R")

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


class _Exchange:
    """The one request of a blocking call, on the loop: its id (for ``$/cancelRequest``) and its response's
    sequence number (the caller waits for the callbacks of earlier notifications)."""

    def __init__(self, connection: JsonRpcConnection) -> None:
        self.connection = connection
        self.request_id: Optional[RequestId] = None
        self.seq: Optional[int] = None
        self.cancelled = False

    async def request(self, method: str, params: Any = None) -> Any:
        if self.cancelled:
            raise RequestCancelledError(RequestCancelledError.CODE, f"{method} was cancelled before it was sent.", None)
        request_id, future = self.connection.send_request(method, params)
        self.request_id = request_id
        try:
            await self.connection.drain()
            response: Response = await future
        except asyncio.CancelledError:
            self.connection.abandon(request_id)
            raise
        self.seq = response.seq
        return response.unwrap()

    def cancel(self) -> None:
        """On the loop: sends ``$/cancelRequest`` for the request, or keeps it from being sent."""
        self.cancelled = True
        if self.request_id is not None and self.seq is None and not self.connection.closed:
            try:
                self.connection.cancel(self.request_id)
            except SidecarError:
                pass


class _CallView:
    """The AsyncSidecar as one blocking call sees it: every attribute is the AsyncSidecar's (reads and writes),
    except :meth:`request`, which goes through the call's :class:`_Exchange`. The AsyncSidecar's method runs
    with this as ``self``, so each protocol method is written once, in ``_async.py``."""

    __slots__ = ("_target", "_exchange")

    def __init__(self, target: AsyncSidecar, exchange: _Exchange) -> None:
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_exchange", exchange)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._target, name, value)

    async def request(self, method: str, params: Any = None) -> Any:
        return await self._exchange.request(method, params)


_BLOCKING_NOTE = """

Blocking (:class:`Sidecar`): also takes ``timeout=`` (seconds) and ``cancel=`` (a :class:`CancelToken` or
:class:`threading.Event`); when either fires, ``$/cancelRequest`` is sent and
:class:`~oauth_sidecar.RequestCancelledError` raised (unless the sidecar's answer was already on its way).
"""


def _blocking(method: Callable[..., Awaitable[R]]) -> Callable[..., R]:
    """The blocking twin of an :class:`AsyncSidecar` protocol method: the same arguments (plus ``timeout`` and
    ``cancel`` for requests), the same result; the coroutine runs on the client's loop thread."""
    wire: str = getattr(method, PROTOCOL_ATTRIBUTE)
    signature = inspect.signature(method)
    if wire in CLIENT_NOTIFICATIONS:

        @functools.wraps(method)
        def send(self: "Sidecar", *args: Any, **kwargs: Any) -> Any:
            return self._run(wire, lambda view: method(view, *args, **kwargs), None, None)

        send.__signature__ = signature  # type: ignore[attr-defined]
        return send

    @functools.wraps(method)
    def call(self: "Sidecar", *args: Any, timeout: Optional[float] = None, cancel: Optional[Cancel] = None, **kwargs: Any) -> Any:
        return self._run(wire, lambda view: method(view, *args, **kwargs), timeout, cancel)

    extra = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=annotation)
             for name, annotation in (("timeout", "Optional[float]"), ("cancel", "Optional[Cancel]"))]
    call.__signature__ = signature.replace(parameters=[*signature.parameters.values(), *extra])  # type: ignore[attr-defined]
    call.__doc__ = (method.__doc__ or "").rstrip() + _BLOCKING_NOTE
    return call


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
        return self._run(method, lambda view: view.request(method, params), timeout, cancel)

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

    def _run(self, wire: str, start: Callable[["_CallView"], Awaitable[Any]], timeout: Optional[float],
             cancel: Optional[Cancel]) -> Any:
        """Runs ``start(view)`` (a coroutine of the AsyncSidecar) on the loop and waits for it here.

        ``timeout`` and ``cancel`` send ``$/cancelRequest`` for the request it made; the sidecar's answer (-32800, or
        a result that was already on its way) is still awaited for :data:`CANCEL_GRACE_SECONDS`. The result is
        returned after the callbacks of the notifications received before the response have run.
        """
        if threading.current_thread() is self._thread:
            raise RuntimeError("Blocking Sidecar calls cannot be made on its event loop thread (e.g. from a message hook).")
        if self._closed:
            raise ConnectionClosedError("The sidecar client is closed.")
        if cancel is not None and cancel.is_set():
            raise RequestCancelledError(RequestCancelledError.CODE, f"{wire} was cancelled before it was sent.", None)
        exchange = _Exchange(self._async.connection)
        coroutine = start(_CallView(self._async, exchange))  # binds the arguments here: a TypeError is the caller's
        try:
            future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        except RuntimeError:
            coroutine.close()
            raise ConnectionClosedError("The sidecar client is closed.") from None
        wake = threading.Event()
        future.add_done_callback(lambda _: wake.set())

        deadline = None if timeout is None else time.monotonic() + timeout
        polled = cancel is not None and not isinstance(cancel, CancelToken)
        if isinstance(cancel, CancelToken):
            cancel.add_callback(wake.set)
        reason: Optional[str] = None
        try:
            while not future.done():
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
            self._soon(exchange.cancel)
            future.cancel()
            raise
        finally:
            if isinstance(cancel, CancelToken):
                cancel.remove_callback(wake.set)

        if reason is not None and not future.done():
            self._soon(exchange.cancel)
            grace_end = time.monotonic() + CANCEL_GRACE_SECONDS
            while not future.done() and time.monotonic() < grace_end:
                wake.wait(grace_end - time.monotonic())
                wake.clear()
            if not future.done():
                future.cancel()  # stops waiting (a late answer is dropped)
                raise RequestCancelledError(
                    RequestCancelledError.CODE,
                    f"{wire} was {reason if reason == 'cancelled' else 'cancelled: ' + reason}; "
                    f"the sidecar did not answer the cancellation within {CANCEL_GRACE_SECONDS:g} s.", None)

        try:
            return future.result()
        except RequestCancelledError as e:
            if reason is None:
                raise
            raise RequestCancelledError(
                RequestCancelledError.CODE,
                f"{wire} was {reason if reason == 'cancelled' else 'cancelled: ' + reason} (the sidecar answered: {e.message})",
                e.data) from None
        finally:
            if exchange.seq is not None:
                self._dispatcher.wait_processed(exchange.seq)

    def _soon(self, fn: Callable[[], Any]) -> None:
        """Runs ``fn()`` on the loop's thread, soon (nothing if the loop has stopped)."""
        try:
            self._loop.call_soon_threadsafe(fn)
        except RuntimeError:
            pass

    # -- notification callbacks ---------------------------------------------------------------

    @protocol_method("window/showDocument")
    def on_show_document(self, handler: Optional[H]) -> Optional[H]:
        """Answers ``window/showDocument`` with ``handler(ShowDocumentRequest)`` -> ``True``/``False``, run on the
        callback thread (e.g. ``lambda req: webbrowser.open(req.uri)``). See :meth:`AsyncSidecar.on_show_document`."""
        return self._answer_requests_with(handler, lambda answer: self._async.on_show_document(answer))

    @protocol_method("auth/promptRedirect")
    def on_prompt_redirect(self, handler: Optional[H]) -> Optional[H]:
        """Answers ``auth/promptRedirect`` with ``handler(PromptRedirect)`` -> the pasted address (or ``None`` to
        decline), run on the callback thread (e.g. ``lambda req: input(req.message + "\\n> ")``). See
        :meth:`AsyncSidecar.on_prompt_redirect`."""
        return self._answer_requests_with(handler, lambda answer: self._async.on_prompt_redirect(answer))

    def _answer_requests_with(self, handler: Optional[H], install: Callable[[Any], Any]) -> Optional[H]:
        """Installs ``handler`` as the answer to a server-to-client request: the async client awaits it while it runs
        on the callback thread (``None`` removes it)."""
        if handler is None:
            self._on_loop(lambda: install(None))
            return None
        connection = self._async.connection
        dispatcher = self._dispatcher

        async def answer(request: Any) -> Any:
            future = dispatcher.submit(connection.received, handler, request, want_result=True)
            assert future is not None
            return await asyncio.wrap_future(future)

        self._on_loop(lambda: install(answer))
        return handler

    # -- the protocol: every method of AsyncSidecar, blocking (see _blocking) --------------------

    initialize = _blocking(AsyncSidecar.initialize)
    initialized = _blocking(AsyncSidecar.initialized)
    shutdown = _blocking(AsyncSidecar.shutdown)
    exit = _blocking(AsyncSidecar.exit)
    cancel_request = _blocking(AsyncSidecar.cancel_request)
    create_client = _blocking(AsyncSidecar.create_client)
    dispose_client = _blocking(AsyncSidecar.dispose_client)
    initiate_auth_code_flow = _blocking(AsyncSidecar.initiate_auth_code_flow)
    wait_for_callback = _blocking(AsyncSidecar.wait_for_callback)
    obtain_token_by_auth_code_flow = _blocking(AsyncSidecar.obtain_token_by_auth_code_flow)
    cancel_flow = _blocking(AsyncSidecar.cancel_flow)
    obtain_token_by_browser = _blocking(AsyncSidecar.obtain_token_by_browser)
    build_auth_request_uri = _blocking(AsyncSidecar.build_auth_request_uri)
    parse_auth_response = _blocking(AsyncSidecar.parse_auth_response)
    obtain_token_by_authorization_code = _blocking(AsyncSidecar.obtain_token_by_authorization_code)
    initiate_device_flow = _blocking(AsyncSidecar.initiate_device_flow)
    obtain_token_by_device_flow = _blocking(AsyncSidecar.obtain_token_by_device_flow)
    refresh = _blocking(AsyncSidecar.refresh)
    create_dpop_proof = _blocking(AsyncSidecar.create_dpop_proof)
    obtain_token_for_client = _blocking(AsyncSidecar.obtain_token_for_client)
    obtain_token_by_username_password = _blocking(AsyncSidecar.obtain_token_by_username_password)
    obtain_token_by_assertion = _blocking(AsyncSidecar.obtain_token_by_assertion)
    get_credentials = _blocking(AsyncSidecar.get_credentials)
    parse_challenge = _blocking(AsyncSidecar.parse_challenge)
    list_accounts = _blocking(AsyncSidecar.list_accounts)
    sign_out = _blocking(AsyncSidecar.sign_out)
    start_callback_server = _blocking(AsyncSidecar.start_callback_server)
    stop_callback_server = _blocking(AsyncSidecar.stop_callback_server)


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
