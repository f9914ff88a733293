"""Sign-in wherever the user is (issue 16) through both Python clients, against the real sidecar and test provider:
``on_prompt_redirect`` (the paste path), ``on_authorization_url``, the ``auto`` chain's ``method``,
``parse_challenge`` and a step-up. Every message is schema-validated."""

from __future__ import annotations

import asyncio
import urllib.parse
from typing import Any, List

import pytest

from oauth_sidecar import (
    AuthorizationUrl,
    DeviceCode,
    InteractionRequiredError,
    InvalidParamsError,
    PromptRedirect,
    ShowDocumentRequest,
    Sidecar,
)
from support import NATIVE_SCOPES, is_sent, run_async

MFA = "urn:sidecar:acr:mfa"


def _with_state(url: str, state: str) -> str:
    parts = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(parts.query))
    query["state"] = state
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


@run_async
async def test_paste_path_with_a_wrong_state_asked_again(open_async: Any, idp: Any, recorder: Any) -> None:
    asked: List[PromptRedirect] = []
    urls: List[AuthorizationUrl] = []
    async with open_async() as sidecar:
        async def paste(request: PromptRedirect) -> str:
            asked.append(request)
            assert request.redirect_uri in request.message
            # The user signs in on another machine; the browser ends on the redirect address, which does not load there.
            answer = await asyncio.to_thread(idp.authorize, request.auth_uri, deliver=False)
            return _with_state(answer["callbackUrl"], "state-of-another-sign-in") if len(asked) == 1 else answer["callbackUrl"]

        sidecar.on_prompt_redirect(paste)
        sidecar.on_authorization_url(urls.append)
        init = await sidecar.initialize()
        assert recorder.find(is_sent("initialize"))["params"]["capabilities"] == {"promptRedirect": True}
        assert isinstance(init.capabilities.environment.can_open_browser, bool)
        client = await sidecar.create_client(issuer=idp.issuer, client_id="native-app", scopes=NATIVE_SCOPES)

        tokens = await sidecar.get_credentials(client, interactive="paste")
        assert tokens.method == "paste" and tokens.account == "alice"
        assert len(asked) == 2 and asked[0].error is None
        assert asked[1].error.code == -32002 and asked[1].flow_id == asked[0].flow_id
        assert [u.flow_id for u in urls] == [asked[0].flow_id]


@run_async
async def test_paste_without_a_handler_is_interaction_required(open_async: Any, idp: Any) -> None:
    async with open_async() as sidecar:
        await sidecar.initialize()
        client = await sidecar.create_client(issuer=idp.issuer, client_id="native-app", scopes=NATIVE_SCOPES)
        with pytest.raises(InteractionRequiredError, match="capabilities.promptRedirect"):
            await sidecar.get_credentials(client, interactive="paste")


def test_blocking_paste_handler_that_declines_ends_the_sign_in(sidecar: Sidecar, idp: Any) -> None:
    asked: List[PromptRedirect] = []

    def decline(request: PromptRedirect) -> None:  # on the callback thread: e.g. input() that got an empty line
        asked.append(request)
        return None

    sidecar.on_prompt_redirect(decline)
    sidecar.initialize()
    client = sidecar.create_client(issuer=idp.issuer, client_id="native-app", scopes=NATIVE_SCOPES)
    with pytest.raises(InteractionRequiredError, match="no address was pasted"):
        sidecar.get_credentials(client, interactive="paste", timeout=30)
    assert len(asked) == 1


def test_blocking_auto_without_a_desktop_session_uses_the_device_flow(sidecar: Sidecar, idp: Any) -> None:
    init = sidecar.initialize()
    if init.capabilities.environment.can_open_browser:
        pytest.skip("this machine can open a browser (a desktop session): auto would choose it")
    codes: List[DeviceCode] = []
    sidecar.on_device_code(lambda code: (codes.append(code), idp.approve_device(code.user_code)))
    client = sidecar.create_client(issuer=idp.issuer, client_id="native-app", scopes=NATIVE_SCOPES)
    tokens = sidecar.get_credentials(client, timeout=60)  # interactive="auto", the default
    assert tokens.method == "device" and len(codes) == 1


def test_blocking_step_up_from_a_challenge(sidecar: Sidecar, idp: Any) -> None:
    opened: List[str] = []

    def browser(request: ShowDocumentRequest) -> bool:
        opened.append(request.uri)
        idp.authorize(request.uri)
        return True

    sidecar.on_show_document(browser)
    sidecar.initialize()
    client = sidecar.create_client(issuer=idp.issuer, client_id="native-app", scopes=NATIVE_SCOPES)
    first = sidecar.get_credentials(client, interactive="browser", timeout=30)
    assert first.id_token_claims["acr"] == "urn:sidecar:acr:password"

    challenge = sidecar.parse_challenge(f'Bearer error="insufficient_user_authentication", acr_values="{MFA}", max_age="600"')
    assert challenge.error == "insufficient_user_authentication" and challenge.acr_values == [MFA] and challenge.max_age == 600
    with pytest.raises(InteractionRequiredError, match="step-up"):
        sidecar.get_credentials(client, acr_values=challenge.acr_values, max_age=challenge.max_age, interactive="none")
    stepped = sidecar.get_credentials(client, acr_values=challenge.acr_values, max_age=challenge.max_age, timeout=30)
    assert stepped.id_token_claims["acr"] == MFA
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(opened[-1]).query)["acr_values"] == [MFA]
    with pytest.raises(InvalidParamsError):
        sidecar.parse_challenge('Bearer error="unterminated')
