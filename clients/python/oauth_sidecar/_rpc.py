"""JSON-RPC 2.0 over a pair of asyncio streams (a subprocess's pipes), with LSP or newline framing.

:class:`JsonRpcConnection` sends requests (integer ids) and notifications, matches responses to requests,
dispatches the peer's notifications and requests (``window/showDocument``) to handlers, answers the peer's
``$/cancelRequest``, and sends ``$/cancelRequest`` when an awaiting task is cancelled. It knows nothing of
OAuth: :class:`~oauth_sidecar.AsyncSidecar` is built on it.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Dict, List, Optional, Tuple, Union

from ._errors import ConnectionClosedError, SidecarError, error_from_response

__all__ = [
    "LSP",
    "NEWLINE",
    "encode_message",
    "MessageReader",
    "JsonRpcConnection",
    "Response",
    "MessageHook",
]

log = logging.getLogger("oauth_sidecar")

LSP = "lsp"
NEWLINE = "newline"
FRAMINGS = (LSP, NEWLINE)

#: ``hook(direction, message, method)``: ``direction`` is ``"send"`` or ``"receive"``, ``message`` the
#: decoded JSON object, ``method`` the request's method for responses (both directions), else the
#: message's own ``method``. Called synchronously on the event loop; it must not block or raise.
MessageHook = Callable[[str, Dict[str, Any], Optional[str]], None]

RequestId = Union[int, str]


def encode_message(message: Dict[str, Any], framing: str = LSP) -> bytes:
    """Serializes one message as UTF-8 JSON with its frame (``Content-Length`` header, or a newline)."""
    body = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if framing == NEWLINE:
        return body + b"\n"
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


class FramingError(Exception):
    """The peer sent bytes that are not a frame; the stream cannot be resynchronised."""


class MessageReader:
    """Reads framed message bodies (bytes) from an :class:`asyncio.StreamReader`."""

    MAX_HEADER_BYTES = 8 * 1024

    def __init__(self, reader: asyncio.StreamReader, framing: str = LSP) -> None:
        if framing not in FRAMINGS:
            raise ValueError(f"framing must be one of {FRAMINGS}, not {framing!r}")
        self._reader = reader
        self._framing = framing

    async def read(self) -> Optional[bytes]:
        """The next message body, or ``None`` at the end of the stream."""
        if self._framing == NEWLINE:
            while True:
                line = await self._reader.readline()
                if not line:
                    return None
                if line.strip():
                    return line
        try:
            header = await self._reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as e:
            if e.partial.strip():
                raise FramingError(f"the stream ended inside a message header: {e.partial[:80]!r}") from None
            return None
        except asyncio.LimitOverrunError:
            raise FramingError("a message header is too long") from None
        length = None
        for line in header.decode("ascii", "replace").split("\r\n"):
            name, sep, value = line.partition(":")
            if sep and name.strip().lower() == "content-length":
                try:
                    length = int(value.strip())
                except ValueError:
                    raise FramingError(f"bad Content-Length header: {line!r}") from None
        if length is None or length < 0:
            raise FramingError(f"a message header without Content-Length: {header[:80]!r}")
        try:
            return await self._reader.readexactly(length)
        except asyncio.IncompleteReadError:
            raise FramingError(f"the stream ended inside a {length}-byte message") from None


@dataclass
class Response:
    """A response as received: ``result`` or ``error`` (the raw JSON-RPC error object).

    ``seq`` is the number of messages received up to and including this one (so callers can wait until
    the handlers of the messages received before it have run).
    """

    id: RequestId
    result: Any = None
    error: Optional[Dict[str, Any]] = None
    seq: int = 0

    def unwrap(self) -> Any:
        if self.error is not None:
            raise error_from_response(self.error)
        return self.result


NotificationHandler = Callable[[Any], Optional[Awaitable[None]]]
RequestHandler = Callable[[Any], Any]


class JsonRpcConnection:
    """One JSON-RPC 2.0 peer connection over asyncio streams. Use it from the event loop's thread."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        framing: str = LSP,
        message_hook: Optional[MessageHook] = None,
        describe_close: Optional[Callable[[], Tuple[str, str]]] = None,
    ) -> None:
        self._reader = MessageReader(reader, framing)
        self._writer = writer
        self._framing = framing
        self._hooks: List[MessageHook] = [message_hook] if message_hook else []
        self._describe_close = describe_close
        self._next_id = 0
        self._pending: Dict[RequestId, asyncio.Future] = {}
        # Methods of requests sent, kept until their response arrives (also after a cancel), for the hook.
        self._methods: Dict[RequestId, str] = {}
        self._notification_handlers: Dict[str, List[NotificationHandler]] = {}
        self._request_handlers: Dict[str, RequestHandler] = {}
        self._incoming: Dict[RequestId, asyncio.Task] = {}
        self._background: set = set()
        self._drain_lock: Optional[asyncio.Lock] = None
        self._reader_task: Optional[asyncio.Task] = None
        self._closed = False
        self._close_error: Optional[ConnectionClosedError] = None
        self._closed_event: Optional[asyncio.Event] = None
        #: Messages received so far (responses, notifications and requests).
        self.received = 0

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        """Starts the reader task (call once, on the event loop)."""
        if self._reader_task is None:
            self._drain_lock = asyncio.Lock()
            self._closed_event = asyncio.Event()
            self._reader_task = asyncio.ensure_future(self._read_loop())

    @property
    def closed(self) -> bool:
        return self._closed

    async def wait_closed(self) -> None:
        """Waits until the peer's output ended (or :meth:`close` was called)."""
        if self._closed_event is not None:
            await self._closed_event.wait()

    async def close(self) -> None:
        """Closes our output (the peer sees the end of its input) and stops reading."""
        try:
            if not self._writer.is_closing():
                self._writer.close()
        except Exception:  # pragma: no cover - already gone
            pass
        if self._reader_task is not None and not self._reader_task.done():
            self._reader_task.cancel()
            try:
                await self._reader_task
            except (asyncio.CancelledError, Exception):
                pass
        self._mark_closed("the connection was closed by the client")
        for task in list(self._incoming.values()) + list(self._background):
            task.cancel()

    def add_message_hook(self, hook: MessageHook) -> None:
        self._hooks = self._hooks + [hook]

    def remove_message_hook(self, hook: MessageHook) -> None:
        self._hooks = [h for h in self._hooks if h is not hook]

    # -- handlers -------------------------------------------------------------------------------

    def on_notification(self, method: str, handler: NotificationHandler) -> None:
        """Calls ``handler(params)`` for each notification ``method``; async handlers run as tasks."""
        self._notification_handlers[method] = self._notification_handlers.get(method, []) + [handler]

    def remove_notification_handler(self, method: str, handler: NotificationHandler) -> bool:
        handlers = self._notification_handlers.get(method, [])
        if handler not in handlers:
            return False
        self._notification_handlers[method] = [h for h in handlers if h is not handler]
        return True

    def on_request(self, method: str, handler: Optional[RequestHandler]) -> None:
        """Answers the peer's requests ``method`` with ``handler(params)`` (sync or async); ``None`` removes it."""
        if handler is None:
            self._request_handlers.pop(method, None)
        else:
            self._request_handlers[method] = handler

    # -- sending --------------------------------------------------------------------------------

    def send_request(self, method: str, params: Any = None) -> Tuple[int, "asyncio.Future[Response]"]:
        """Writes a request; returns its id and a future resolved with the :class:`Response`."""
        self._raise_if_closed()
        self._next_id += 1
        request_id = self._next_id
        message: Dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        self._methods[request_id] = method
        try:
            self._write(message, method)
        except BaseException:
            self._pending.pop(request_id, None)
            self._methods.pop(request_id, None)
            raise
        return request_id, future

    async def request(self, method: str, params: Any = None) -> Any:
        """Sends a request and returns its result, or raises the matching :class:`SidecarError`.

        Cancelling the awaiting task sends ``$/cancelRequest`` for it (the late answer is dropped).
        """
        request_id, future = self.send_request(method, params)
        try:
            await self.drain()
            response: Response = await future
        except asyncio.CancelledError:
            self._pending.pop(request_id, None)
            if not future.done():
                future.cancel()
            if not self._closed:
                try:
                    self.cancel(request_id)
                except SidecarError:
                    pass
            raise
        return response.unwrap()

    def notify(self, method: str, params: Any = None) -> None:
        """Writes a notification (no answer)."""
        self._raise_if_closed()
        message: Dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        self._write(message, method)

    def cancel(self, request_id: RequestId) -> None:
        """Sends ``$/cancelRequest`` for one of our requests (it then fails with -32800, or still answers)."""
        self.notify("$/cancelRequest", {"id": request_id})

    def abandon(self, request_id: RequestId) -> None:
        """Stops waiting for a request's answer (a late answer is ignored, but still shown to the hooks)."""
        future = self._pending.pop(request_id, None)
        if future is not None and not future.done():
            future.cancel()

    async def drain(self) -> None:
        """Waits until the written bytes were handed to the pipe (flow control)."""
        if self._closed:
            return
        assert self._drain_lock is not None, "start() was not called"
        async with self._drain_lock:
            try:
                await self._writer.drain()
            except (ConnectionError, BrokenPipeError, RuntimeError) as e:
                raise self._closed_error(f"writing to the sidecar failed ({e})") from None

    def _write(self, message: Dict[str, Any], method: Optional[str]) -> None:
        data = encode_message(message, self._framing)
        self._run_hooks("send", message, method)
        try:
            self._writer.write(data)
        except (ConnectionError, BrokenPipeError, RuntimeError) as e:
            raise self._closed_error(f"writing to the sidecar failed ({e})") from None

    def _respond(self, request_id: RequestId, method: str, result: Any = None, error: Optional[Dict[str, Any]] = None) -> None:
        if self._closed:
            return
        message: Dict[str, Any] = {"jsonrpc": "2.0", "id": request_id}
        if error is not None:
            message["error"] = error
        else:
            message["result"] = result
        try:
            self._write(message, method)
        except SidecarError:
            pass

    # -- receiving ------------------------------------------------------------------------------

    async def _read_loop(self) -> None:
        reason = "the sidecar closed its output"
        try:
            while True:
                body = await self._reader.read()
                if body is None:
                    break
                try:
                    message = json.loads(body.decode("utf-8"))
                except (UnicodeDecodeError, ValueError) as e:
                    log.warning("The sidecar sent a frame that is not JSON (%s); skipped: %r", e, body[:200])
                    continue
                if not isinstance(message, dict):
                    log.warning("The sidecar sent a JSON-RPC message that is not an object; skipped: %r", body[:200])
                    continue
                self.received += 1
                self._dispatch(message)
        except FramingError as e:
            reason = f"the sidecar's output is not framed as expected ({e})"
            log.error("Stopped reading the sidecar: %s", reason)
        except asyncio.CancelledError:
            reason = "the connection was closed by the client"
            raise
        except Exception as e:  # pragma: no cover - a bug
            reason = f"reading from the sidecar failed ({e!r})"
            log.exception("Reading from the sidecar failed")
        finally:
            self._mark_closed(reason)

    def _dispatch(self, message: Dict[str, Any]) -> None:
        method = message.get("method")
        if isinstance(method, str):
            self._run_hooks("receive", message, method)
            if "id" in message and message["id"] is not None:
                self._handle_request(message["id"], method, message.get("params"))
            else:
                self._handle_notification(method, message.get("params"))
            return
        request_id = message.get("id")
        self._run_hooks("receive", message, self._methods.pop(request_id, None) if request_id is not None else None)
        future = self._pending.pop(request_id, None) if request_id is not None else None
        if future is None:
            if "error" in message and request_id is None:
                error = message.get("error") or {}
                log.warning("The sidecar reported an error about an unreadable message: %s", error.get("message"))
            return
        if not future.done():
            future.set_result(Response(request_id, message.get("result"), message.get("error"), self.received))

    def _handle_notification(self, method: str, params: Any) -> None:
        if method == "$/cancelRequest":
            target = params.get("id") if isinstance(params, dict) else None
            task = self._incoming.get(target)
            if task is not None:
                task.cancel()
            return
        for handler in self._notification_handlers.get(method, []):
            try:
                outcome = handler(params)
                if inspect.isawaitable(outcome):
                    self._spawn(outcome, f"the {method} handler")
            except Exception:
                log.exception("A %s handler failed", method)

    def _handle_request(self, request_id: RequestId, method: str, params: Any) -> None:
        handler = self._request_handlers.get(method)
        if handler is None:
            self._respond(request_id, method, error={
                "code": -32601, "message": f"This client does not handle {method}."})
            return

        answered = [False]

        def respond(**answer: Any) -> None:
            if not answered[0]:
                answered[0] = True
                self._respond(request_id, method, **answer)

        async def run() -> None:
            try:
                outcome = handler(params)
                if inspect.isawaitable(outcome):
                    outcome = await outcome
                respond(result=outcome)
            except asyncio.CancelledError:
                respond(error={"code": -32800, "message": "The request was cancelled."})
            except SidecarError as e:
                error = {"code": e.code if isinstance(e.code, int) else -32603, "message": e.message}
                if e.data is not None:
                    error["data"] = e.data
                respond(error=error)
            except Exception as e:
                log.exception("The %s handler failed", method)
                respond(error={"code": -32603, "message": f"The client's {method} handler failed: {e}"})

        def finished(task: asyncio.Task) -> None:
            self._incoming.pop(request_id, None)
            if task.cancelled():  # cancelled before it started
                respond(error={"code": -32800, "message": "The request was cancelled."})

        task = asyncio.ensure_future(run())
        task.add_done_callback(finished)
        self._incoming[request_id] = task

    def _spawn(self, awaitable: Awaitable[Any], what: str) -> None:
        async def run() -> None:
            try:
                await awaitable
            except asyncio.CancelledError:
                pass
            except Exception:
                log.exception("%s failed", what[:1].upper() + what[1:])

        task = asyncio.ensure_future(run())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _run_hooks(self, direction: str, message: Dict[str, Any], method: Optional[str]) -> None:
        for hook in self._hooks:
            try:
                hook(direction, message, method)
            except Exception:
                log.exception("A message hook failed")

    # -- closing --------------------------------------------------------------------------------

    def _closed_error(self, reason: str) -> ConnectionClosedError:
        if self._close_error is not None:
            return self._close_error
        stderr = ""
        if self._describe_close is not None:
            try:
                extra, stderr = self._describe_close()
                if extra:
                    reason = f"{reason}; {extra}"
            except Exception:  # pragma: no cover
                pass
        message = f"The sidecar connection is closed: {reason}."
        if stderr.strip():
            message += " Its last stderr lines:\n" + stderr.rstrip()
        return ConnectionClosedError(message, stderr)

    def _raise_if_closed(self) -> None:
        if self._closed:
            raise self._closed_error("it was closed before")

    def _mark_closed(self, reason: str) -> None:
        if self._closed:
            return
        self._close_error = self._closed_error(reason)
        self._closed = True
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(self._close_error)
                # Retrieved or not, do not warn "exception was never retrieved" for abandoned requests.
                future.exception()
        if self._closed_event is not None:
            self._closed_event.set()

