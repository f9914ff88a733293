"""Unit tests without the sidecar: framing, the JSON-RPC connection against a scripted peer, parameter
conversion, dataclasses, errors and finding the executable."""

from __future__ import annotations

import asyncio
import json
import os
import socket
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

import pytest

from oauth_sidecar import (
    AsyncSidecar,
    CallbackOptions,
    ConnectionClosedError,
    CreateClientResult,
    FlowTimeoutError,
    InvalidParamsError,
    JsonRpcConnection,
    MethodNotFoundError,
    OAuthError,
    Pages,
    ServerConfiguration,
    SidecarError,
    SidecarNotFoundError,
    TokenResult,
    encode_message,
    error_from_response,
    find_sidecar,
)
from oauth_sidecar._params import wire_params
from oauth_sidecar._rpc import FramingError, MessageReader
from oauth_sidecar._types import CallbackTls, camel_case, snake_case
from support import run_async

# ---------------------------------------------------------------------------------------------
# Framing.


def _reader_with(*chunks: bytes) -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    for chunk in chunks:
        reader.feed_data(chunk)
    reader.feed_eof()
    return reader


@run_async
async def test_lsp_frames_split_anywhere_and_extra_headers() -> None:
    one = encode_message({"jsonrpc": "2.0", "id": 1, "result": "héllo"})
    two = b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\ncontent-length: 2\r\n\r\n{}"
    data = one + two
    reader = MessageReader(_reader_with(*[data[i:i + 7] for i in range(0, len(data), 7)]))
    assert json.loads(await reader.read()) == {"jsonrpc": "2.0", "id": 1, "result": "héllo"}
    assert await reader.read() == b"{}"
    assert await reader.read() is None


def test_lsp_content_length_counts_utf8_bytes() -> None:
    frame = encode_message({"m": "€"})
    header, body = frame.split(b"\r\n\r\n", 1)
    assert header == b"Content-Length: %d" % len(body) and len(body) > len('{"m":"€"}')


@run_async
async def test_newline_frames_skip_blank_lines() -> None:
    reader = MessageReader(_reader_with(b'{"a":1}\n\n  \r\n{"b":2}\n'), "newline")
    assert json.loads(await reader.read()) == {"a": 1}
    assert json.loads(await reader.read()) == {"b": 2}
    assert await reader.read() is None
    assert encode_message({"a": 1}, "newline") == b'{"a":1}\n'


@run_async
async def test_lsp_header_without_length_is_a_framing_error() -> None:
    with pytest.raises(FramingError):
        await MessageReader(_reader_with(b"Content-Type: x\r\n\r\n{}")).read()
    with pytest.raises(FramingError):
        await MessageReader(_reader_with(b"Content-Length: 10\r\n\r\n{}")).read()


# ---------------------------------------------------------------------------------------------
# The connection against a scripted peer over a socket pair.


class Peer:
    """The far end: reads our frames, writes whatever the test scripts."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = MessageReader(reader)
        self.writer = writer

    async def receive(self) -> Dict[str, Any]:
        body = await asyncio.wait_for(self.reader.read(), 10)
        assert body is not None, "the client closed the connection"
        return json.loads(body)

    def send(self, message: Dict[str, Any]) -> None:
        self.writer.write(encode_message(message))

    async def close(self) -> None:
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except ConnectionError:
            pass


async def _pair(**options: Any):
    a, b = socket.socketpair()
    client_reader, client_writer = await asyncio.open_connection(sock=a)
    peer_reader, peer_writer = await asyncio.open_connection(sock=b)
    connection = JsonRpcConnection(client_reader, client_writer, **options)
    connection.start()
    return connection, Peer(peer_reader, peer_writer)


@run_async
async def test_responses_are_matched_by_id_and_notifications_run_first() -> None:
    seen: List[str] = []
    connection, peer = await _pair(message_hook=lambda d, m, method: seen.append(f"{d} {method}"))
    events: List[Any] = []
    connection.on_notification("tokensObtained", lambda params: events.append(params))
    first = asyncio.ensure_future(connection.request("one", {"x": 1}))
    second = asyncio.ensure_future(connection.request("two"))
    r1, r2 = await peer.receive(), await peer.receive()
    assert (r1["method"], r1["params"], r2["method"], "params" in r2) == ("one", {"x": 1}, "two", False)
    peer.send({"jsonrpc": "2.0", "method": "tokensObtained", "params": {"n": 1}})
    peer.send({"jsonrpc": "2.0", "id": r2["id"], "result": [2]})
    peer.send({"jsonrpc": "2.0", "id": r1["id"], "error": {"code": -32602, "message": "bad", "data": {"field": "x"}}})
    assert await second == [2]
    assert events == [{"n": 1}]  # a plain callback ran before the later response was delivered
    with pytest.raises(InvalidParamsError) as caught:
        await first
    assert caught.value.field == "x" and caught.value.code == -32602
    assert seen == ["send one", "send two", "receive tokensObtained", "receive two", "receive one"]
    await connection.close()
    await peer.close()


@run_async
async def test_cancelling_the_awaiting_task_sends_cancel_request() -> None:
    connection, peer = await _pair()
    task = asyncio.ensure_future(connection.request("waitForCallback", {"flowId": "f"}))
    request = await peer.receive()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await peer.receive() == {"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": request["id"]}}
    peer.send({"jsonrpc": "2.0", "id": request["id"], "error": {"code": -32800, "message": "cancelled"}})
    follow = asyncio.ensure_future(connection.request("ping"))  # the late answer is dropped; still serving
    again = await peer.receive()
    peer.send({"jsonrpc": "2.0", "id": again["id"], "result": "pong"})
    assert await follow == "pong"
    await connection.close()
    await peer.close()


@run_async
async def test_server_requests_are_answered_and_can_be_cancelled() -> None:
    connection, peer = await _pair()
    release = asyncio.Event()

    async def slow(params: Any) -> Dict[str, Any]:
        await release.wait()
        return {"success": True}

    connection.on_request("window/showDocument", lambda params: {"success": params["uri"] == "https://x"})
    peer.send({"jsonrpc": "2.0", "id": 7, "method": "window/showDocument", "params": {"uri": "https://x"}})
    assert await peer.receive() == {"jsonrpc": "2.0", "id": 7, "result": {"success": True}}
    peer.send({"jsonrpc": "2.0", "id": "s", "method": "unknown/request", "params": {}})
    answer = await peer.receive()
    assert answer["id"] == "s" and answer["error"]["code"] == -32601
    connection.on_request("window/showDocument", slow)
    peer.send({"jsonrpc": "2.0", "id": 8, "method": "window/showDocument", "params": {"uri": "u"}})
    peer.send({"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": 8}})
    answer = await peer.receive()
    assert answer["id"] == 8 and answer["error"]["code"] == -32800
    await connection.close()
    await peer.close()


@run_async
async def test_end_of_stream_fails_pending_requests() -> None:
    connection, peer = await _pair(describe_close=lambda: ("exit code 3", "boom: the last stderr line"))
    task = asyncio.ensure_future(connection.request("obtainTokenByDeviceFlow", {"flowId": "f"}))
    await peer.receive()
    await peer.close()
    with pytest.raises(ConnectionClosedError) as caught:
        await task
    assert "exit code 3" in str(caught.value) and "boom" in caught.value.stderr
    with pytest.raises(ConnectionClosedError):
        await connection.request("again")
    await connection.close()


@run_async
async def test_async_sidecar_over_streams_converts_results_and_notifications() -> None:
    a, b = socket.socketpair()
    reader, writer = await asyncio.open_connection(sock=a)
    peer_reader, peer_writer = await asyncio.open_connection(sock=b)
    peer = Peer(peer_reader, peer_writer)
    sidecar = AsyncSidecar.connect(reader, writer)
    got: List[Any] = []

    async def async_callback(event: Any) -> None:
        got.append(("async", event.flow_id))

    sidecar.on_device_flow_pending(lambda event: got.append(("sync", event.attempt, event.extra)))
    sidecar.on_device_flow_pending(async_callback)
    call = asyncio.ensure_future(sidecar.create_client("https://issuer", client_id="app", scopes="openid profile",
                                                       pages={"success_html": b"<p>ok \xe2\x9c\x94</p>"}))
    request = await peer.receive()
    assert request["params"] == {"issuer": "https://issuer", "clientId": "app", "scopes": ["openid", "profile"],
                                 "pages": {"successHtml": "<p>ok ✔</p>"}}
    peer.send({"jsonrpc": "2.0", "method": "deviceFlowPending",
               "params": {"flowId": "f1", "attempt": 1, "error": "authorization_pending", "nextPollSeconds": 5, "new": 1}})
    peer.send({"jsonrpc": "2.0", "id": request["id"], "result": {
        "clientHandle": "c1", "serverConfiguration": {"tokenEndpoint": "https://issuer/token", "mtlsEndpoint": "m"},
        "futureMember": True}})
    result = await call
    assert isinstance(result, CreateClientResult) and result.client_handle == "c1"
    assert result.server_configuration.token_endpoint == "https://issuer/token"
    assert result.server_configuration.extra == {"mtlsEndpoint": "m"} and result.extra == {"futureMember": True}
    await asyncio.sleep(0)
    assert ("sync", 1, {"new": 1}) in got and ("async", "f1") in got
    await peer.close()
    await sidecar.close(timeout=1)


# ---------------------------------------------------------------------------------------------
# Parameters and dataclasses.


def test_case_conversion() -> None:
    assert camel_case("add_auth_params_to_token_request") == "addAuthParamsToTokenRequest"
    assert camel_case("certificate_sha256") == "certificateSha256"
    assert snake_case("certificateSha256") == "certificate_sha256"
    assert snake_case("window/logMessage") == "log_message"
    assert snake_case("$/cancelRequest") == "cancel_request"


def test_wire_params_converts_names_nested_structs_and_drops_none() -> None:
    params = wire_params("createClient", dict(
        self=object(), timeout=3, cancel=None, client_id="app", issuer=None, scopes=("openid", "email"),
        extra_auth_params={"code_challenge_method": "S256", "audience_hint": "x"},
        server_configuration={"token_endpoint": "https://t", "jwksUri": "https://j", "issuer": None},
        tls={"ca_bundle_path": "/ca.pem"},
        callback=CallbackOptions(tls=CallbackTls(adhoc=True), timeout_seconds=30),
        client_handle=CreateClientResult(client_handle="c_1"),
    ))
    assert params == {
        "clientId": "app",
        "scopes": ["openid", "email"],
        "extraAuthParams": {"code_challenge_method": "S256", "audience_hint": "x"},  # map keys are left alone
        "serverConfiguration": {"tokenEndpoint": "https://t", "jwksUri": "https://j"},
        "tls": {"caBundlePath": "/ca.pem"},
        "callback": {"tls": {"adhoc": True}, "timeoutSeconds": 30},
        "clientHandle": "c_1",
    }
    assert wire_params("startCallbackServer", {"tls": {"cert_file": "c", "key_file": "k"}}) == {"tls": {"certFile": "c", "keyFile": "k"}}
    assert wire_params("$/cancelRequest", {"request_id": 4}) == {"id": 4}


@dataclass
class EndpointMetadata:
    """flytekit.clients.auth.auth_client.EndpointMetadata, as flytekit defines it."""

    endpoint: str = "localhost"
    success_html: Optional[bytes] = None
    failure_html: Optional[bytes] = None


def test_pages_accept_bytes_and_flytekit_endpoint_metadata() -> None:
    metadata = EndpointMetadata(success_html="<h1>Welcome ✔</h1>".encode(), failure_html=b"<h1>Nope</h1>")
    assert wire_params("createClient", {"pages": metadata}) == {"pages": {"successHtml": "<h1>Welcome ✔</h1>", "errorHtml": "<h1>Nope</h1>"}}
    assert wire_params("createClient", {"pages": {"failure_html": b"x", "success_html_path": "/s.html"}}) == {
        "pages": {"errorHtml": "x", "successHtmlPath": "/s.html"}}
    assert Pages(success_html=b"ok").to_json() == {"successHtml": "ok"}
    assert wire_params("startCallbackServer", {"pages": EndpointMetadata()}) == {"pages": {}}


def test_models_keep_unknown_members_and_hide_secrets() -> None:
    tokens = TokenResult.from_json({
        "accessToken": "AT-secret", "tokenType": "Bearer", "refreshToken": "RT-secret", "idToken": "ID-secret",
        "scopes": ["openid"], "raw": {"access_token": "AT-secret"}, "account": "alice", "dpopNonce": "n"})
    assert tokens.access_token == "AT-secret" and tokens.raw == {"access_token": "AT-secret"}
    assert tokens.extra == {"dpopNonce": "n"}
    text = repr(tokens)
    assert "secret" not in text and "alice" in text
    assert tokens.to_json()["dpopNonce"] == "n" and tokens.to_json()["refreshToken"] == "RT-secret"
    config = ServerConfiguration.from_json({"tokenEndpoint": "t", "pushedAuthorizationRequestEndpoint": "p"})
    assert config.to_json() == {"tokenEndpoint": "t", "pushedAuthorizationRequestEndpoint": "p"}


def test_errors_map_by_code_with_data_attributes() -> None:
    e = error_from_response({"code": -32003, "message": "refused", "data": {
        "error": "invalid_client", "errorDescription": "client authentication failed", "status": 401}})
    assert isinstance(e, OAuthError) and isinstance(e, SidecarError)
    assert (e.code, e.error, e.error_description, e.status, e.error_uri) == (-32003, "invalid_client", "client authentication failed", 401, None)
    timeout = error_from_response({"code": -32001, "message": "ran out", "data": {"flowId": "f", "timeoutSeconds": 2}})
    assert isinstance(timeout, FlowTimeoutError) and timeout.flow_id == "f" and timeout.timeout_seconds == 2
    assert not isinstance(timeout, TimeoutError)
    assert isinstance(error_from_response({"code": -32601, "message": "no"}), MethodNotFoundError)
    unknown = error_from_response({"code": -32042, "message": "new", "data": [1]})
    assert type(unknown) is SidecarError and unknown.data == [1]
    assert "ran out" in str(timeout) and "-32001" in str(timeout)


# ---------------------------------------------------------------------------------------------
# Finding the executable.


def test_find_sidecar_order(tmp_path: Any, monkeypatch: Any) -> None:
    dll = tmp_path / "oauth-sidecar.dll"
    dll.write_bytes(b"")
    exe = tmp_path / "oauth-sidecar"
    exe.write_bytes(b"")
    exe.chmod(0o755)
    monkeypatch.setenv("OAUTH_SIDECAR_PATH", str(dll))
    command = find_sidecar()
    assert command[-1] == str(dll) and os.path.basename(command[0]).startswith("dotnet")
    assert find_sidecar(exe) == [str(exe)]  # the argument wins over the environment
    assert find_sidecar(["dotnet", "x.dll", "--log-level", "debug"]) == ["dotnet", "x.dll", "--log-level", "debug"]
    monkeypatch.setenv("OAUTH_SIDECAR_PATH", str(tmp_path / "missing.dll"))
    with pytest.raises(SidecarNotFoundError):
        find_sidecar()
    monkeypatch.delenv("OAUTH_SIDECAR_PATH")
    found = find_sidecar()  # in this repository: the NativeAOT executable or a built dll
    assert "oauth-sidecar" in " ".join(found)
