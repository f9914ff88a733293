"""The client and the schema: generated types up to date, hand-written method signatures matching the schema, the
blocking client derived from the asyncio one, and the message validator of the tests.

The dataclasses, Literal types, notification callbacks and exception classes are generated from the schema
(``scripts/gen-clients.mjs``), so they are checked by regenerating them. What stays hand-written is one method per
request of :class:`AsyncSidecar` (keyword arguments in Python style); its signatures are compared with the schema.
"""

from __future__ import annotations

import copy
import inspect
import shutil
import subprocess
from typing import Any, Dict, List

import pytest

from oauth_sidecar import SERVER_MESSAGES, AsyncSidecar, Sidecar, protocol_methods
from oauth_sidecar._params import CLIENT_ONLY_ARGUMENTS, WIRE_NAMES
from oauth_sidecar._types import camel_case, snake_case
from protocol_schema import REPO, ProtocolSchema

#: Public methods of the client classes that send no protocol message.
UTILITIES = {
    "spawn", "connect", "close", "request", "notify", "add_message_hook", "on_notification", "on_request", "off",
    "wait_closed",
}


def signature_problems(document: Dict[str, Any], cls: type) -> List[str]:
    """Every difference between a client class's protocol methods and an OpenRPC document."""
    schema = ProtocolSchema(document)
    problems: List[str] = []
    mapped = protocol_methods(cls)  # wire name -> Python name
    for method in schema.client_requests() + schema.client_notifications():
        expected = snake_case(method)
        name = mapped.get(method)
        if name is None:
            problems.append(f"{cls.__name__} has no method for {method} (expected {expected})")
            continue
        if name != expected:
            problems.append(f"{cls.__name__}.{name} sends {method}; it should be called {expected}")
        signature = inspect.signature(getattr(cls, name))
        arguments = {n: p for n, p in signature.parameters.items() if n not in CLIENT_ONLY_ARGUMENTS}
        by_wire = {WIRE_NAMES.get(n, camel_case(n)): p for n, p in arguments.items()}
        where = f"{cls.__name__}.{name}"
        for d in schema.params(method):
            p = by_wire.get(d["name"])
            if p is None:
                problems.append(f"{where} has no argument for {method}'s parameter {d['name']} (expected {snake_case(d['name'])})")
            elif d.get("required") and p.default is not p.empty:
                problems.append(f"{where}: {p.name} is required by the schema but has a default")
            elif not d.get("required") and p.default is not None:
                problems.append(f"{where}: {p.name} is optional in the schema but does not default to None")
        declared = {d["name"] for d in schema.params(method)}
        for wire, p in by_wire.items():
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                problems.append(f"{where} takes *{p.name}: every parameter must be named")
            elif wire not in declared:
                problems.append(f"{where} has an argument {p.name} ({wire}) that {method} does not take")
        if cls is Sidecar and method in schema.client_requests():
            for extra in ("timeout", "cancel"):
                p = signature.parameters.get(extra)
                if p is None or p.kind is not p.KEYWORD_ONLY or p.default is not None:
                    problems.append(f"{where} needs a keyword-only {extra}=None")
    for method in schema.server_messages():
        expected = "on_" + snake_case(method)
        if mapped.get(method) != expected:
            problems.append(f"{cls.__name__} has no {expected} for the sidecar's {method}")
    for method, name in mapped.items():
        if method not in schema.methods:
            problems.append(f"{cls.__name__}.{name} is for {method}, which is not in the schema")
    for name, member in inspect.getmembers(cls, callable):
        if not name.startswith("_") and name not in UTILITIES and not hasattr(member, "__sidecar_method__"):
            problems.append(f"{cls.__name__}.{name} is public but maps to no protocol method (mark it, or list it in UTILITIES)")
    return problems


def test_the_generated_files_are_up_to_date_with_the_schema() -> None:
    node = shutil.which("node")
    assert node is not None, "node runs scripts/gen-clients.mjs"
    check = subprocess.run([node, str(REPO / "scripts" / "gen-clients.mjs"), "--check"], cwd=REPO,
                           capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stderr + check.stdout


@pytest.mark.parametrize("cls", [AsyncSidecar, Sidecar], ids=["AsyncSidecar", "Sidecar"])
def test_every_method_matches_the_schema(schema: ProtocolSchema, cls: type) -> None:
    problems = signature_problems(schema.doc, cls)
    assert not problems, "\n".join(problems)


def test_the_blocking_client_is_the_asyncio_client_method_for_method(schema: ProtocolSchema) -> None:
    mapped = protocol_methods(AsyncSidecar)
    assert set(schema.methods) == set(mapped), set(schema.methods) ^ set(mapped)
    assert protocol_methods(Sidecar) == mapped
    for wire in schema.client_requests() + schema.client_notifications():
        name = mapped[wire]
        blocking, coroutine = getattr(Sidecar, name), getattr(AsyncSidecar, name)
        assert inspect.iscoroutinefunction(coroutine) and not inspect.iscoroutinefunction(blocking), name
        assert blocking.__wrapped__ is coroutine, f"Sidecar.{name} is not derived from AsyncSidecar.{name}"
        async_params = [p for p in inspect.signature(coroutine).parameters.values()]
        sync_params = [p for p in inspect.signature(blocking).parameters.values() if p.name not in ("timeout", "cancel")]
        assert sync_params == async_params, name
    assert set(SERVER_MESSAGES) == set(schema.server_messages())


def _method(doc: Dict[str, Any], name: str) -> Dict[str, Any]:
    return next(m for m in doc["methods"] if m["name"] == name)


@pytest.mark.parametrize("edit, expected", [
    (lambda d: d["methods"].append({"name": "frobnicate", "paramStructure": "by-name", "params": [],
                                    "result": {"name": "r", "schema": {"type": "null"}}}), "frobnicate"),
    (lambda d: d["methods"].remove(_method(d, "refresh")), "refresh"),
    (lambda d: _method(d, "createClient")["params"].insert(
        1, {"name": "tenantId", "required": True, "schema": {"type": "string"}}), "tenant_id"),
    (lambda d: next(p for p in _method(d, "getCredentials")["params"] if p["name"] == "account").update(required=True),
     "account is required"),
    (lambda d: d["methods"].append({"name": "flowExpired", "paramStructure": "by-name", "x-direction": "server-to-client",
                                    "x-notification": True, "params": []}), "on_flow_expired"),
], ids=["method added", "method removed", "parameter added", "parameter made required", "notification added"])
@pytest.mark.parametrize("cls", [AsyncSidecar, Sidecar], ids=["AsyncSidecar", "Sidecar"])
def test_a_changed_schema_is_reported(schema: ProtocolSchema, cls: type, edit: Any, expected: str) -> None:
    """The signature check is not vacuous: each kind of change is reported, naming what changed."""
    doc = copy.deepcopy(schema.doc)
    edit(doc)
    problems = signature_problems(doc, cls)
    assert any(expected in p for p in problems), problems


def test_the_message_validator_is_not_vacuous(schema: ProtocolSchema) -> None:
    """The recorder's checks catch what they are meant to catch (and pass what is right)."""
    ok = {"jsonrpc": "2.0", "method": "tokensObtained",
          "params": {"clientHandle": "c", "grantType": "refresh_token", "scopes": ["openid"], "expiresAt": 1}}
    assert schema.validate_message("receive", ok, "tokensObtained")[1] == []
    missing = copy.deepcopy(ok)
    del missing["params"]["grantType"]
    assert any("grantType" in p for p in schema.validate_message("receive", missing, None)[1])
    undocumented = copy.deepcopy(ok)
    undocumented["params"]["accessToken"] = "leak"
    assert any("accessToken" in p for p in schema.validate_message("receive", undocumented, None)[1])
    assert schema.validate_message("send", ok, None)[1]  # a server-to-client notification that was sent
    result = {"jsonrpc": "2.0", "id": 1, "result": {"uri": "https://x"}}
    assert schema.validate_message("receive", result, "buildAuthRequestUri")[1] == []
    result["result"]["extra"] = 1
    assert schema.validate_message("receive", result, "buildAuthRequestUri")[1]
    wrong_type = {"jsonrpc": "2.0", "id": 1, "result": {"flowId": "f", "url": 5}}
    assert any("url" in p for p in schema.validate_message("receive", wrong_type, "startCallbackServer")[1])
    oauth = {"jsonrpc": "2.0", "id": 2, "error": {"code": -32003, "message": "m", "data": {"error": "invalid_grant"}}}
    assert schema.validate_message("receive", oauth, "refresh")[1] == []
    assert any("not listed" in p for p in schema.validate_message("receive", oauth, "parseAuthResponse")[1])
    oauth["error"]["data"] = {"errorDescription": "no error member"}
    assert any("error" in p for p in schema.validate_message("receive", oauth, "refresh")[1])
    params = {"jsonrpc": "2.0", "id": 3, "method": "createClient", "params": {"client_id": "snake"}}
    assert any("clientId" in p for p in schema.validate_message("send", params, "createClient")[1])
    enum = {"jsonrpc": "2.0", "id": 4, "method": "getCredentials", "params": {"clientHandle": "c", "interactive": "Browser"}}
    assert any("interactive" in p for p in schema.validate_message("send", enum, "getCredentials")[1])
    enum["params"]["interactive"] = "device"
    assert schema.validate_message("send", enum, "getCredentials")[1] == []
