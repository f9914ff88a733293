"""AsyncSidecar against the real sidecar and the real test provider. Every message is schema-validated."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
import urllib.request
from typing import Any, List

import pytest

from oauth_sidecar import (
    AccountInfo,
    AuthCodeFlow,
    CallbackReceived,
    CallbackResult,
    CreateClientResult,
    DeviceCode,
    DeviceFlow,
    DeviceFlowPending,
    FlowTimeoutError,
    InitializeResult,
    InteractionRequiredError,
    InvalidIdTokenError,
    InvalidParamsError,
    LogMessage,
    MethodNotFoundError,
    OAuthError,
    RefreshTokenRemoved,
    RefreshTokenUpdated,
    ShowDocumentRequest,
    StateMismatchError,
    TokenResult,
    TokensObtained,
    UnknownHandleError,
)
from support import NATIVE_SCOPES, is_response_to, is_sent, run_async


async def _native_client(sidecar: Any, idp: Any, **options: Any) -> CreateClientResult:
    return await sidecar.create_client(issuer=idp.issuer, client_id="native-app", scopes=NATIVE_SCOPES, **options)


async def _sign_in(sidecar: Any, idp: Any, client: Any) -> TokenResult:
    flow = await sidecar.initiate_auth_code_flow(client, open_browser=False)
    await asyncio.to_thread(idp.authorize, flow.auth_uri)
    return await sidecar.obtain_token_by_auth_code_flow(flow)


@run_async
async def test_initialize_and_create_client(open_async: Any, idp: Any, recorder: Any) -> None:
    logs: List[LogMessage] = []
    async with open_async() as sidecar:
        sidecar.on_log_message(logs.append)
        result = await sidecar.initialize(client_info={"name": "pytest", "version": "1"})
        assert isinstance(result, InitializeResult)
        assert result.protocol_version == "1.1" and result.server_info.name == "oauth-sidecar"
        assert "urn:ietf:params:oauth:grant-type:device_code" in result.capabilities.grant_types
        assert "memory" in result.capabilities.storage
        await sidecar.initialized()
        client = await _native_client(sidecar, idp)
        assert client.client_handle and client.server_configuration.issuer == idp.issuer
        assert client.server_configuration.token_endpoint == idp.issuer + "/token"
        assert client.server_configuration.device_authorization_endpoint
    assert any("pytest" in m.message for m in logs)
    assert recorder.find(is_response_to("initialize")) is not None


@run_async
async def test_authorization_code_flow_with_callbacks(open_async: Any, idp: Any) -> None:
    callbacks: List[CallbackReceived] = []
    obtained: List[TokensObtained] = []

    async def on_tokens(event: TokensObtained) -> None:  # a coroutine callback
        obtained.append(event)

    async with open_async() as sidecar:
        sidecar.on_callback_received(callbacks.append)  # a plain callback
        sidecar.on_tokens_obtained(on_tokens)
        await sidecar.initialize()
        client = await _native_client(sidecar, idp)
        flow = await sidecar.initiate_auth_code_flow(client.client_handle, open_browser=False)
        assert isinstance(flow, AuthCodeFlow)
        assert flow.redirect_uri.startswith("http://127.0.0.1:") and "code_challenge_method=S256" in flow.auth_uri
        assert flow.state in flow.auth_uri and flow.expires_at > 0
        delivered = await asyncio.to_thread(idp.authorize, flow.auth_uri)
        assert delivered["status"] == 200
        tokens = await sidecar.obtain_token_by_auth_code_flow(flow.flow_id)
        await asyncio.sleep(0)  # let the coroutine callback's task run
    assert isinstance(tokens, TokenResult)
    assert tokens.access_token and tokens.refresh_token and tokens.id_token and tokens.token_type == "Bearer"
    assert tokens.id_token_claims["sub"] == "alice" and tokens.account == "alice"
    assert set(tokens.scopes) == set(NATIVE_SCOPES) and tokens.raw["access_token"] == tokens.access_token
    assert [c.flow_id for c in callbacks] == [flow.flow_id]
    assert callbacks[0].params["state"] == flow.state and callbacks[0].params["code"] and callbacks[0].method == "GET"
    assert len(obtained) == 1 and obtained[0].grant_type == "authorization_code"
    assert obtained[0].flow_id == flow.flow_id and obtained[0].client_handle == client.client_handle


@run_async
async def test_wait_for_callback_and_a_denied_consent(open_async: Any, idp: Any) -> None:
    async with open_async() as sidecar:
        client = await _native_client(sidecar, idp)
        flow = await sidecar.initiate_auth_code_flow(client, open_browser=False)
        waiting = asyncio.ensure_future(sidecar.wait_for_callback(flow, timeout_seconds=30))
        await asyncio.to_thread(idp.authorize, flow.auth_uri, deny=True)
        callback = await waiting
        assert isinstance(callback, CallbackResult) and callback.params["error"] == "access_denied"
        assert (await sidecar.wait_for_callback(flow)).received_at == callback.received_at  # at once, again
        with pytest.raises(OAuthError) as caught:
            await sidecar.obtain_token_by_auth_code_flow(flow)
        assert caught.value.error == "access_denied"


@run_async
async def test_device_flow_with_pending_notifications(open_async: Any, idp: Any) -> None:
    pending: List[DeviceFlowPending] = []
    first_pending = asyncio.Event()

    def on_pending(event: DeviceFlowPending) -> None:
        pending.append(event)
        first_pending.set()

    async with open_async() as sidecar:
        sidecar.on_device_flow_pending(on_pending)
        client = await _native_client(sidecar, idp)
        flow = await sidecar.initiate_device_flow(client, scopes=NATIVE_SCOPES)
        assert isinstance(flow, DeviceFlow) and flow.user_code and flow.interval == 1
        assert flow.user_code in flow.message or flow.verification_uri in flow.message
        polling = asyncio.ensure_future(sidecar.obtain_token_by_device_flow(flow))
        await asyncio.wait_for(first_pending.wait(), 20)  # the sidecar polled once: the user has not approved yet
        await asyncio.to_thread(idp.approve_device, flow.user_code)
        tokens = await polling
    assert tokens.access_token and tokens.refresh_token and tokens.id_token_claims["sub"] == "alice"
    assert pending[0].flow_id == flow.flow_id and pending[0].attempt == 1
    assert pending[0].error in ("authorization_pending", "slow_down") and pending[0].next_poll_seconds >= 1


@run_async
async def test_refresh_announces_the_rotated_refresh_token(open_async: Any, idp: Any) -> None:
    updates: List[RefreshTokenUpdated] = []
    obtained: List[TokensObtained] = []
    async with open_async() as sidecar:
        sidecar.on_refresh_token_updated(updates.append)
        sidecar.on_tokens_obtained(obtained.append)
        client = await _native_client(sidecar, idp)
        first = await _sign_in(sidecar, idp, client)
        refreshed = await sidecar.refresh(client, first.refresh_token)
        assert refreshed.access_token and refreshed.access_token != first.access_token
        assert refreshed.refresh_token and refreshed.refresh_token != first.refresh_token  # the provider rotates
        again = await sidecar.refresh(client, refreshed)  # a TokenResult stands for its refresh token
    assert [u.refresh_token for u in updates] == [refreshed.refresh_token, again.refresh_token]
    assert all(u.client_handle == client.client_handle for u in updates)
    assert [o.grant_type for o in obtained] == ["authorization_code", "refresh_token", "refresh_token"]
    assert updates[0].refresh_token not in repr(updates[0])


@run_async
async def test_a_refused_refresh_token_is_announced_as_removed(open_async: Any, idp: Any) -> None:
    removed: List[RefreshTokenRemoved] = []
    async with open_async() as sidecar:
        sidecar.on_refresh_token_removed(removed.append)
        client = await _native_client(sidecar, idp)
        first = await _sign_in(sidecar, idp, client)
        await sidecar.refresh(client, first)
        with pytest.raises(OAuthError) as caught:  # already rotated: the provider refuses it
            await sidecar.refresh(client, first)
    assert caught.value.error == "invalid_grant"
    assert len(removed) == 1 and removed[0].client_handle == client.client_handle and removed[0].reason


@run_async
async def test_get_credentials_with_memory_storage_and_show_document(open_async: Any, idp: Any, recorder: Any) -> None:
    shown: List[ShowDocumentRequest] = []

    async def show_document(request: ShowDocumentRequest) -> bool:  # plays the user in the "browser"
        shown.append(request)
        await asyncio.to_thread(idp.authorize, request.uri)
        return True

    async with open_async(storage=None) as sidecar:  # the process default (keyring) is not used: storage per client
        sidecar.on_show_document(show_document)
        await sidecar.initialize(capabilities={"show_document": True})
        client = await _native_client(sidecar, idp, storage="memory")
        tokens = await sidecar.get_credentials(client, scopes=NATIVE_SCOPES)
        assert tokens.access_token and tokens.account == "alice"
        assert len(shown) == 1 and shown[0].external is True and shown[0].uri.startswith(idp.issuer + "/auth?")
        again = await sidecar.get_credentials(client, scopes=NATIVE_SCOPES, interactive="none")
        assert again.access_token == tokens.access_token and len(shown) == 1  # from the store, no browser
        accounts = await sidecar.list_accounts(client)
        assert [type(a) for a in accounts] == [AccountInfo]
        assert accounts[0].account == "alice" and accounts[0].client_id == "native-app" and accounts[0].issuer == idp.issuer
        await sidecar.sign_out(client, account="alice")
        assert await sidecar.list_accounts(client) == []
        with pytest.raises(InteractionRequiredError):
            await sidecar.get_credentials(client, scopes=NATIVE_SCOPES, interactive="none")
    answers = [m for d, m, method in recorder.messages if d == "send" and method == "window/showDocument"]
    assert answers == [{"jsonrpc": "2.0", "id": answers[0]["id"], "result": {"success": True}}]


@run_async
async def test_get_credentials_by_device_code_and_obtain_token_by_browser(open_async: Any, idp: Any) -> None:
    codes: List[DeviceCode] = []

    async def on_device_code(event: DeviceCode) -> None:  # shows the code; here the user approves at once
        codes.append(event)
        await asyncio.to_thread(idp.approve_device, event.user_code)

    async with open_async() as sidecar:
        sidecar.on_device_code(on_device_code)
        sidecar.on_show_document(lambda request: asyncio.to_thread(idp.authorize, request.uri, login="bob"))
        await sidecar.initialize()  # declares showDocument by itself: a handler is set
        client = await _native_client(sidecar, idp)
        tokens = await sidecar.get_credentials(client, interactive="device")
        assert tokens.account == "alice" and len(codes) == 1 and codes[0].user_code and codes[0].expires_at
        browser = await sidecar.obtain_token_by_browser(client, scopes=["openid", "profile"], login_hint="bob")
        assert browser.id_token_claims["sub"] == "bob" and browser.refresh_token is None


@run_async
async def test_msal_style_code_redemption(open_async: Any, idp: Any) -> None:
    """build_auth_request_uri + a standalone callback server + obtain_token_by_authorization_code, PKCE by hand."""
    verifier = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    async with open_async() as sidecar:
        client = await _native_client(sidecar, idp)
        server = await sidecar.start_callback_server(port=0, scheme="http")
        uri = await sidecar.build_auth_request_uri(
            client, "code", redirect_uri=server.url, scopes=["openid"], state="msal-state",
            extra_params={"code_challenge": challenge, "code_challenge_method": "S256", "nonce": "msal-nonce"})
        await asyncio.to_thread(idp.authorize, uri)
        callback = await sidecar.wait_for_callback(server)
        response = await sidecar.parse_auth_response(params=callback.params, state="msal-state")
        await sidecar.stop_callback_server(server)
        tokens = await sidecar.obtain_token_by_authorization_code(
            client, response.code, redirect_uri=server.url, code_verifier=verifier, nonce="msal-nonce", scopes=["openid"])
    assert tokens.id_token_claims["nonce"] == "msal-nonce" and tokens.access_token


@run_async
async def test_errors_are_mapped_to_exceptions(open_async: Any, idp: Any, recorder: Any) -> None:
    recorder.expect_invalid_requests("nope", "createClient")
    async with open_async() as sidecar:
        with pytest.raises(MethodNotFoundError) as not_found:
            await sidecar.request("nope", {})
        assert not_found.value.code == -32601 and "nope" in not_found.value.message
        with pytest.raises(InvalidParamsError) as bad:
            await sidecar.request("createClient", {"clientId": "x", "issuer": idp.issuer, "bogus": 1})
        assert bad.value.field == "bogus"
        with pytest.raises(InvalidParamsError) as bad_type:
            await sidecar.create_client(issuer=idp.issuer, client_id="native-app", timeout_seconds="soon")  # type: ignore[arg-type]
        assert bad_type.value.field == "timeoutSeconds"
        with pytest.raises(UnknownHandleError) as unknown:
            await sidecar.wait_for_callback("f_does-not-exist")
        assert unknown.value.flow_id == "f_does-not-exist"
        with pytest.raises(UnknownHandleError) as unknown_client:
            await sidecar.initiate_device_flow("c_does-not-exist")
        assert unknown_client.value.client_handle == "c_does-not-exist"
        wrong = await sidecar.create_client(issuer=idp.issuer, client_id="confidential-app", client_secret="wrong-secret")
        with pytest.raises(OAuthError) as oauth:
            await sidecar.obtain_token_for_client(wrong)
        assert oauth.value.error == "invalid_client" and oauth.value.status == 401
        client = await _native_client(sidecar, idp)
        flow = await sidecar.initiate_auth_code_flow(client, open_browser=False)
        with pytest.raises(FlowTimeoutError) as timeout:
            await sidecar.wait_for_callback(flow, timeout_seconds=0.2)
        assert timeout.value.flow_id == flow.flow_id
        with pytest.raises(StateMismatchError):
            await sidecar.obtain_token_by_auth_code_flow(flow, auth_response={"code": "c", "state": "not-the-state"})
        await sidecar.cancel_flow(flow)
        with pytest.raises(UnknownHandleError):
            await sidecar.cancel_flow(flow)


@run_async
async def test_cancelling_a_task_sends_cancel_request_and_the_sidecar_keeps_serving(open_async: Any, idp: Any, recorder: Any) -> None:
    async with open_async() as sidecar:
        client = await _native_client(sidecar, idp)
        flow = await sidecar.initiate_auth_code_flow(client, open_browser=False)
        waiting = asyncio.ensure_future(sidecar.wait_for_callback(flow))
        await recorder.wait_async(is_sent("waitForCallback"))
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        answer = await recorder.wait_async(is_response_to("waitForCallback", -32800))
        cancel = recorder.find(is_sent("$/cancelRequest"))
        assert cancel["params"] == {"id": answer["id"]}
        # Still serving, and the flow is still alive: finish the sign-in.
        assert (await sidecar.initialize()).protocol_version == "1.1"
        await asyncio.to_thread(idp.authorize, flow.auth_uri)
        tokens = await sidecar.obtain_token_by_auth_code_flow(flow)
        assert tokens.access_token
        # asyncio.wait_for is the timeout: it cancels, which sends $/cancelRequest too.
        other = await sidecar.initiate_auth_code_flow(client, open_browser=False)
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(sidecar.obtain_token_by_auth_code_flow(other), 0.3)
        await recorder.wait_async(is_response_to("obtainTokenByAuthCodeFlow", -32800))


@run_async
async def test_newline_framing(open_async: Any, idp: Any) -> None:
    async with open_async(framing="newline") as sidecar:
        assert (await sidecar.initialize()).protocol_version == "1.1"
        client = await _native_client(sidecar, idp)
        tokens = await _sign_in(sidecar, idp, client)
        assert tokens.access_token


@run_async
async def test_callback_server_serves_bytes_pages(open_async: Any) -> None:
    class EndpointMetadata:  # flytekit's shape: bytes pages
        endpoint = "localhost"
        success_html = "<h1>Python client ✔</h1>".encode()
        failure_html = b"<h1>Python client failed</h1>"

    async with open_async() as sidecar:
        server = await sidecar.start_callback_server(port=0, scheme="http", pages=EndpointMetadata(), timeout_seconds=30)
        assert server.url.startswith("http://127.0.0.1:") and server.url.endswith("/callback")

        def browser() -> str:
            with urllib.request.urlopen(server.url + "?code=abc&state=xyz", timeout=10) as response:
                return response.read().decode()

        page = await asyncio.to_thread(browser)
        assert "Python client ✔" in page
        callback = await sidecar.wait_for_callback(server)
        assert callback.params == {"code": "abc", "state": "xyz"} and callback.path == "/callback"
        await sidecar.stop_callback_server(server)


@run_async
async def test_other_grants_and_helpers(open_async: Any, idp: Any) -> None:
    async with open_async() as sidecar:
        confidential = await sidecar.create_client(idp.issuer, client_id="confidential-app",
                                                   client_secret="confidential-secret")
        service = await sidecar.obtain_token_for_client(confidential, scopes=["api:read"])
        assert service.access_token and service.refresh_token is None
        password = await sidecar.create_client(idp.issuer, client_id="password-app", client_secret="password-secret")
        user = await sidecar.obtain_token_by_username_password(password, "bob", "bob-password", scopes=["openid", "offline_access"])
        assert user.id_token_claims["sub"] == "bob" and user.refresh_token
        assertion = (await asyncio.to_thread(idp.control, "/jwt-assertion", {"sub": "alice"}))["assertion"]
        bearer = await sidecar.create_client(idp.issuer, client_id="assertion-app", client_secret="assertion-secret")
        granted = await sidecar.obtain_token_by_assertion(bearer, assertion, "urn:ietf:params:oauth:grant-type:jwt-bearer",
                                                          scopes=["openid"])
        assert granted.id_token_claims["sub"] == "alice"
        native = await _native_client(sidecar, idp)
        uri = await sidecar.build_auth_request_uri(native, "code", redirect_uri="http://127.0.0.1:9/callback", state="s1",
                                                   extra_params={"code_challenge": "abc", "code_challenge_method": "S256"})
        assert uri.startswith(idp.issuer + "/auth?") and "state=s1" in uri and "code_challenge=abc" in uri
        parsed = await sidecar.parse_auth_response(url="http://127.0.0.1/callback?code=c1&state=s1&iss=x", state="s1")
        assert (parsed.code, parsed.state, parsed.iss, parsed.params["code"]) == ("c1", "s1", "x", "c1")
        with pytest.raises(StateMismatchError):
            await sidecar.parse_auth_response(query="code=c1&state=s2", state="s1")
        await sidecar.dispose_client(bearer)
        with pytest.raises(UnknownHandleError):
            await sidecar.obtain_token_for_client(bearer)


@run_async
async def test_invalid_id_token(open_async: Any, idp: Any) -> None:
    async with open_async() as sidecar:
        client = await sidecar.create_client(idp.issuer, client_id="password-app", client_secret="password-secret")
        await asyncio.to_thread(idp.control, "/config", {"idTokenMutation": "tamper-signature"})
        try:
            with pytest.raises(InvalidIdTokenError) as caught:
                await sidecar.obtain_token_by_username_password(client, "alice", "alice-password", scopes=["openid"])
            assert caught.value.reason
        finally:
            await asyncio.to_thread(idp.control, "/config", {"idTokenMutation": "none"})
