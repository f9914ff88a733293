"""The blocking Sidecar against the real sidecar and the real test provider. Every message is schema-validated."""

from __future__ import annotations

import json
import os
import signal
import threading
import urllib.error
import urllib.request
from typing import Any, List
from urllib.parse import parse_qs, urlsplit

import pytest

from oauth_sidecar import (
    CallbackReceived,
    CancelToken,
    ConnectionClosedError,
    DeviceFlowPending,
    InvalidParamsError,
    MethodNotFoundError,
    OAuthError,
    RefreshTokenUpdated,
    RequestCancelledError,
    ShowDocumentRequest,
    Sidecar,
    SidecarNotFoundError,
    TokensObtained,
    UnknownHandleError,
)
from support import NATIVE_SCOPES, is_response_to, is_sent


def _native_client(sidecar: Sidecar, idp: Any, **options: Any) -> Any:
    return sidecar.create_client(issuer=idp.issuer, client_id="native-app", scopes=NATIVE_SCOPES, **options)


def test_authorization_code_flow_callbacks_have_run_when_the_call_returns(sidecar: Sidecar, idp: Any) -> None:
    callbacks: List[CallbackReceived] = []
    obtained: List[TokensObtained] = []
    accounts_seen: List[Any] = []

    def on_tokens(event: TokensObtained) -> None:
        obtained.append(event)
        accounts_seen.append(sidecar.list_accounts())  # a callback may call the client (its own thread)

    sidecar.on_callback_received(callbacks.append)
    sidecar.on_tokens_obtained(on_tokens)
    info = sidecar.initialize()
    assert info.protocol_version == "1.1" and sidecar.initialize_result is info
    client = _native_client(sidecar, idp)
    flow = sidecar.initiate_auth_code_flow(client, open_browser=False)
    idp.authorize(flow.auth_uri)
    tokens = sidecar.obtain_token_by_auth_code_flow(flow)
    assert tokens.access_token and tokens.refresh_token and tokens.account == "alice"
    # No waiting: the notifications came before the response, so their callbacks have run.
    assert [c.flow_id for c in callbacks] == [flow.flow_id] and callbacks[0].params["state"] == flow.state
    assert [(o.grant_type, o.flow_id) for o in obtained] == [("authorization_code", flow.flow_id)]
    assert accounts_seen == [[]]  # the memory store is only filled by get_credentials


def test_device_flow_approved_from_the_pending_callback(sidecar: Sidecar, idp: Any) -> None:
    pending: List[DeviceFlowPending] = []
    client = _native_client(sidecar, idp)
    flow = sidecar.initiate_device_flow(client)

    def on_pending(event: DeviceFlowPending) -> None:
        pending.append(event)
        if len(pending) == 1:
            idp.approve_device(flow.user_code)  # the user approves while the sidecar polls

    sidecar.on_device_flow_pending(on_pending)
    tokens = sidecar.obtain_token_by_device_flow(flow, timeout=30)
    assert tokens.access_token and tokens.id_token_claims["sub"] == "alice"
    assert pending and pending[0].flow_id == flow.flow_id and pending[0].attempt == 1


def test_refresh_with_refresh_token_updated(sidecar: Sidecar, idp: Any) -> None:
    updates: List[RefreshTokenUpdated] = []
    sidecar.on_refresh_token_updated(updates.append)
    client = _native_client(sidecar, idp)
    flow = sidecar.initiate_auth_code_flow(client, open_browser=False)
    idp.authorize(flow.auth_uri)
    first = sidecar.obtain_token_by_auth_code_flow(flow)
    refreshed = sidecar.refresh(client, first.refresh_token, scopes=NATIVE_SCOPES)
    assert refreshed.refresh_token and refreshed.refresh_token != first.refresh_token
    assert [(u.client_handle, u.refresh_token) for u in updates] == [(client.client_handle, refreshed.refresh_token)]
    assert sidecar.off("refreshTokenUpdated", updates.append)
    sidecar.refresh(client, refreshed)
    assert len(updates) == 1


def test_get_credentials_with_a_show_document_handler(sidecar: Sidecar, idp: Any, recorder: Any) -> None:
    shown: List[str] = []

    def open_browser(request: ShowDocumentRequest) -> bool:  # the "browser": the provider's headless user
        shown.append(request.uri)
        idp.authorize(request.uri, login="bob")
        return True

    sidecar.on_show_document(open_browser)
    sidecar.initialize()  # declares capabilities.showDocument by itself, since a handler is set
    declared = recorder.find(is_sent("initialize"))
    assert declared["params"]["capabilities"] == {"showDocument": True}
    client = _native_client(sidecar, idp, storage="memory")
    tokens = sidecar.get_credentials(client, timeout=30)
    assert tokens.account == "bob" and len(shown) == 1
    assert sidecar.get_credentials(client).access_token == tokens.access_token and len(shown) == 1
    assert [a.account for a in sidecar.list_accounts()] == ["bob"]
    sidecar.sign_out(client)
    assert sidecar.list_accounts(client) == []


def test_errors(sidecar: Sidecar, idp: Any, recorder: Any) -> None:
    recorder.expect_invalid_requests("nope", "initiateAuthCodeFlow")
    with pytest.raises(MethodNotFoundError):
        sidecar.request("nope", {})
    client = _native_client(sidecar, idp)
    with pytest.raises(InvalidParamsError) as bad:
        sidecar.request("initiateAuthCodeFlow", {"clientHandle": client.client_handle, "callback": {"timeoutSeconds": "x"}})
    assert bad.value.field == "callback.timeoutSeconds"
    with pytest.raises(InvalidParamsError) as mode:
        sidecar.initiate_auth_code_flow(client, response_mode="fragment", open_browser=False)
    assert mode.value.field == "responseMode"
    with pytest.raises(UnknownHandleError):
        sidecar.obtain_token_by_auth_code_flow("f_unknown")
    wrong = sidecar.create_client(idp.issuer, client_id="confidential-app", client_secret="not-the-secret")
    with pytest.raises(OAuthError) as oauth:
        sidecar.obtain_token_for_client(wrong)
    assert oauth.value.error == "invalid_client"


def test_timeout_sends_cancel_request(sidecar: Sidecar, idp: Any, recorder: Any) -> None:
    client = _native_client(sidecar, idp)
    flow = sidecar.initiate_auth_code_flow(client, open_browser=False)
    with pytest.raises(RequestCancelledError) as caught:
        sidecar.wait_for_callback(flow, timeout=0.3)
    assert caught.value.code == -32800 and "timeout" in caught.value.message
    answer = recorder.find(is_response_to("waitForCallback", -32800))
    assert recorder.find(is_sent("$/cancelRequest"))["params"] == {"id": answer["id"]}
    idp.authorize(flow.auth_uri)  # the flow outlived the cancelled wait
    assert sidecar.obtain_token_by_auth_code_flow(flow, timeout=30).access_token


@pytest.mark.parametrize("kind", ["CancelToken", "threading.Event"])
def test_cancel_from_another_thread(sidecar: Sidecar, idp: Any, recorder: Any, kind: str) -> None:
    client = _native_client(sidecar, idp)
    flow = sidecar.initiate_device_flow(client)
    cancel = CancelToken() if kind == "CancelToken" else threading.Event()

    def user() -> None:  # cancels once the request is on the wire
        recorder.wait(is_sent("obtainTokenByDeviceFlow"))
        cancel.set()

    threading.Thread(target=user, daemon=True).start()
    with pytest.raises(RequestCancelledError):
        sidecar.obtain_token_by_device_flow(flow, cancel=cancel)
    recorder.wait(is_response_to("obtainTokenByDeviceFlow", -32800))
    assert sidecar.list_accounts() == []  # still serving
    with pytest.raises(RequestCancelledError):  # an already-cancelled token: nothing is sent
        sidecar.wait_for_callback("f_whatever", cancel=cancel)


def test_cancel_flow_fails_the_waiting_call(sidecar: Sidecar, idp: Any, recorder: Any) -> None:
    client = _native_client(sidecar, idp)
    flow = sidecar.initiate_auth_code_flow(client, open_browser=False)
    errors: List[BaseException] = []

    def wait() -> None:
        try:
            sidecar.wait_for_callback(flow)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    waiter = threading.Thread(target=wait)
    waiter.start()
    recorder.wait(is_sent("waitForCallback"))
    sidecar.cancel_flow(flow)
    waiter.join(10)
    assert len(errors) == 1 and isinstance(errors[0], RequestCancelledError)


def test_spawn_finds_the_sidecar_through_the_environment(sidecar_command: List[str], sidecar_env: Any,
                                                        recorder: Any, monkeypatch: Any) -> None:
    if not sidecar_command[-1].endswith(".dll") and len(sidecar_command) != 1:
        pytest.skip("the sidecar command is not a single executable or dll")
    monkeypatch.setenv("OAUTH_SIDECAR_PATH", sidecar_command[-1])
    with Sidecar.spawn(env=sidecar_env, storage="memory", message_hook=recorder.hook) as s:
        assert s.initialize().server_info.name == "oauth-sidecar"
        assert s.pid
    assert s.returncode == 0
    assert s.close() == 0  # idempotent


def test_a_crashed_sidecar_fails_the_waiting_call(sidecar_command: List[str], sidecar_env: Any, idp: Any,
                                                  recorder: Any) -> None:
    s = Sidecar.spawn(sidecar_command, env=sidecar_env, storage="memory", message_hook=recorder.hook)
    try:
        client = _native_client(s, idp)
        flow = s.initiate_auth_code_flow(client, open_browser=False)
        killer = threading.Thread(target=lambda: (recorder.wait(is_sent("waitForCallback")), os.kill(s.pid, signal.SIGKILL)))
        killer.start()
        with pytest.raises(ConnectionClosedError) as caught:
            s.wait_for_callback(flow)
        killer.join(10)
        assert "closed" in str(caught.value)
        with pytest.raises(ConnectionClosedError):
            s.list_accounts()
    finally:
        code = s.close()
    assert code == -signal.SIGKILL


def test_spawn_with_a_missing_executable_leaves_nothing_running(tmp_path: Any) -> None:
    def ours() -> List[threading.Thread]:
        return [t for t in threading.enumerate() if t.name.startswith("oauth-sidecar")]

    before = ours()
    with pytest.raises(SidecarNotFoundError):
        Sidecar.spawn(tmp_path / "no-such-oauth-sidecar")
    assert ours() == before


def test_calling_an_api_with_dpop(sidecar: Sidecar, dpop_idp: Any) -> None:
    client = sidecar.create_client(issuer=dpop_idp.issuer, client_id="native-app", scopes=NATIVE_SCOPES, dpop=True, par="auto")
    flow = sidecar.initiate_auth_code_flow(client, open_browser=False)
    assert sorted(parse_qs(urlsplit(flow.auth_uri).query)) == ["client_id", "request_uri"]  # a pushed request
    dpop_idp.authorize(flow.auth_uri)
    tokens = sidecar.obtain_token_by_auth_code_flow(flow)
    assert tokens.token_type == "DPoP" and tokens.jkt

    url = dpop_idp.issuer + "/rs/profile?fields=all"
    proof = sidecar.create_dpop_proof(client, "GET", url, access_token=tokens)
    assert proof.jkt == tokens.jkt and proof.proof not in repr(proof)
    request = urllib.request.Request(url, headers={"Authorization": f"DPoP {tokens.access_token}", "DPoP": proof.proof})
    with urllib.request.urlopen(request, timeout=30) as response:
        body = json.loads(response.read())
    assert body["sub"] == "alice" and body["jkt"] == tokens.jkt

    with pytest.raises(urllib.error.HTTPError) as replayed:  # a proof is good once
        urllib.request.urlopen(request, timeout=30)
    assert replayed.value.code == 401 and json.loads(replayed.value.read())["error"] == "invalid_dpop_proof"
    with pytest.raises(InvalidParamsError) as bad:
        sidecar.create_dpop_proof(client, "GET", "/relative")
    assert bad.value.data["field"] == "htu"
