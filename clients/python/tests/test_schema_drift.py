"""The client against the schema: every method, parameter, result member, notification and error code.

``drift_problems`` compares a client class with an OpenRPC document and lists every difference; the tests
run it on the real schema (no difference allowed) and on edited copies (each edit must be caught).
"""

from __future__ import annotations

import copy
import inspect
import typing
from typing import Any, Dict, List, Type

import pytest

import oauth_sidecar
from oauth_sidecar import ERRORS_BY_CODE, SERVER_MESSAGES, AsyncSidecar, Sidecar, protocol_methods
from oauth_sidecar._params import _STRUCTS, CLIENT_ONLY_ARGUMENTS, WIRE_NAMES
from oauth_sidecar._types import CallbackTls, Model, camel_case, snake_case
from protocol_schema import ProtocolSchema

#: Public methods of the client classes that send no protocol message.
UTILITIES = {
    "spawn", "connect", "close", "request", "notify", "add_message_hook", "on_notification", "on_request", "off",
    "wait_closed",
}
#: Structured parameters whose model differs by method.
STRUCT_OVERRIDES = {("startCallbackServer", "tls"): CallbackTls}


def _python_name(wire: str) -> str:
    return snake_case(wire)


def _check_signature(cls: type, method: str, descriptors: List[Dict[str, Any]], fn: Any) -> List[str]:
    problems = []
    where = f"{cls.__name__}.{fn.__name__}"
    signature = inspect.signature(fn)
    arguments = {n: p for n, p in signature.parameters.items() if n not in CLIENT_ONLY_ARGUMENTS}
    for p in arguments.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            problems.append(f"{where} takes *{p.name}: every parameter must be named")
    by_wire = {WIRE_NAMES.get(n, camel_case(n)): p for n, p in arguments.items()}
    declared = {d["name"] for d in descriptors}
    for d in descriptors:
        p = by_wire.get(d["name"])
        if p is None:
            problems.append(f"{where} has no argument for {method}'s parameter {d['name']} (expected {_python_name(d['name'])})")
        elif d.get("required") and p.default is not p.empty:
            problems.append(f"{where}: {p.name} is required by the schema but has a default")
        elif not d.get("required") and p.default is not None:
            problems.append(f"{where}: {p.name} is optional in the schema but does not default to None")
    for wire, p in by_wire.items():
        if wire not in declared:
            problems.append(f"{where} has an argument {p.name} ({wire}) that {method} does not take")
    if cls is Sidecar and not inspect.unwrap(fn).__name__.startswith("on_"):
        is_request = "timeout" in signature.parameters or method in ("initialized", "exit", "$/cancelRequest")
        if not is_request:
            problems.append(f"{where} has no timeout= argument")
        elif method not in ("initialized", "exit", "$/cancelRequest"):
            for name in ("timeout", "cancel"):
                p = signature.parameters.get(name)
                if p is None or p.kind is not p.KEYWORD_ONLY or p.default is not None:
                    problems.append(f"{where} needs a keyword-only {name}=None")
    return problems


def _model_problems(where: str, model: Type[Model], schema: Any, exact: bool) -> List[str]:
    """A model's members against an object schema's properties (recursively through nested models)."""
    if not isinstance(schema, dict):
        return []
    properties = schema.get("properties") or {}
    problems = []
    fields = {model.wire_name(f.name): f for f in model._fields()}
    for name, sub in properties.items():
        f = fields.get(name)
        if f is None:
            problems.append(f"{where}: {model.__name__} has no field for {name} (expected {snake_case(name)})")
            continue
        nested = f.metadata.get("model")
        if nested is not None:
            nested_cls = getattr(oauth_sidecar._types, nested) if isinstance(nested, str) else nested
            problems += _model_problems(f"{where}.{name}", nested_cls, sub, exact)
    if exact:
        for name in fields:
            if name not in properties:
                problems.append(f"{where}: {model.__name__}.{fields[name].name} ({name}) is not in the schema")
    return problems


def _result_problems(cls: type, method: str, spec: Dict[str, Any], fn: Any) -> List[str]:
    where = f"{cls.__name__}.{fn.__name__} -> {method} result"
    result_schema = (spec.get("result") or {}).get("schema")
    hints = typing.get_type_hints(fn)
    returned = hints.get("return")
    if result_schema is None:
        return []
    types = result_schema.get("type")
    if types == "null":
        return [] if returned is type(None) else [f"{where}: the result is null, but the method returns {returned}"]
    if types == "array":
        args = typing.get_args(returned)
        if typing.get_origin(returned) not in (list, List) or not args or not issubclass(args[0], Model):
            return [f"{where}: the result is an array, but the method returns {returned}"]
        return _model_problems(where, args[0], result_schema.get("items"), exact=True)
    if types == "object":
        if returned is str:  # buildAuthRequestUri -> {uri}: the method returns the one string member
            props = list((result_schema.get("properties") or {}))
            return [] if props == ["uri"] else [f"{where}: returns str, but the result has members {props}"]
        if not (inspect.isclass(returned) and issubclass(returned, Model)):
            return [f"{where}: the result is an object, but the method returns {returned}"]
        return _model_problems(where, returned, result_schema, exact=True)
    return [f"{where}: unexpected result type {types}"]


def drift_problems(document: Dict[str, Any], cls: type) -> List[str]:
    """Every difference between a client class and an OpenRPC document."""
    schema = ProtocolSchema(document)
    problems: List[str] = []
    mapped = protocol_methods(cls)  # wire name -> Python name
    for method in schema.client_requests() + schema.client_notifications():
        name = mapped.get(method)
        expected = _python_name(method)
        if name is None:
            problems.append(f"{cls.__name__} has no method for {method} (expected {expected})")
            continue
        if name != expected:
            problems.append(f"{cls.__name__}.{name} sends {method}; it should be called {expected}")
        fn = getattr(cls, name)
        spec = schema.methods[method][1]
        problems += _check_signature(cls, method, schema.params(method), fn)
        problems += _result_problems(cls, method, spec, fn)
        for d in schema.params(method):
            model = STRUCT_OVERRIDES.get((method, d["name"])) or _STRUCTS.get(d["name"])
            if model is not None:
                problems += _model_problems(f"{method}.{d['name']}", model, d.get("schema"), exact=True)
    for method in schema.server_messages():
        name = mapped.get(method)
        expected = "on_" + _python_name(method)
        if name is None:
            problems.append(f"{cls.__name__} has no {expected} for the sidecar's {method}")
            continue
        if name != expected:
            problems.append(f"{cls.__name__}.{name} handles {method}; it should be called {expected}")
        if method not in SERVER_MESSAGES:
            problems.append(f"SERVER_MESSAGES has no dataclass for {method}")
            continue
        model = SERVER_MESSAGES[method][1]
        params_schema = {"properties": {d["name"]: d.get("schema") for d in schema.params(method)}}
        problems += _model_problems(f"{method} params", model, params_schema, exact=True)
    # The reverse: nothing the client sends or handles is missing from the schema.
    for method, name in mapped.items():
        if method not in schema.methods:
            problems.append(f"{cls.__name__}.{name} is for {method}, which is not in the schema")
    for method in SERVER_MESSAGES:
        if method not in schema.methods:
            problems.append(f"SERVER_MESSAGES lists {method}, which is not in the schema")
    for name, member in inspect.getmembers(cls, callable):
        if name.startswith("_") or name in UTILITIES:
            continue
        if not hasattr(member, "__sidecar_method__"):
            problems.append(f"{cls.__name__}.{name} is public but maps to no protocol method (mark it, or list it in UTILITIES)")
    return problems


def error_problems(document: Dict[str, Any]) -> List[str]:
    problems = []
    errors = document["components"]["errors"]
    for name, spec in errors.items():
        cls = ERRORS_BY_CODE.get(spec["code"])
        if cls is None:
            problems.append(f"no exception class for {name} ({spec['code']})")
            continue
        if cls.SCHEMA_NAME != name:
            problems.append(f"{cls.__name__} is {cls.SCHEMA_NAME} but the schema calls code {spec['code']} {name}")
        data_members = set(((spec.get("data") or {}).get("properties") or {}))
        if set(cls.DATA_FIELDS) != data_members:
            problems.append(f"{cls.__name__} exposes {sorted(cls.DATA_FIELDS)} but {name}.data has {sorted(data_members)}")
        for wire, attribute in cls.DATA_FIELDS.items():
            if attribute != snake_case(wire):
                problems.append(f"{cls.__name__}.{attribute} should be {snake_case(wire)}")
    codes = {spec["code"] for spec in errors.values()}
    for code, cls in ERRORS_BY_CODE.items():
        if code not in codes:
            problems.append(f"{cls.__name__} ({code}) is not in the schema's components.errors")
    return problems


# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [AsyncSidecar, Sidecar], ids=["AsyncSidecar", "Sidecar"])
def test_client_matches_schema(schema: ProtocolSchema, cls: type) -> None:
    problems = drift_problems(schema.doc, cls)
    assert not problems, "\n".join(problems)


def test_every_schema_method_is_covered(schema: ProtocolSchema) -> None:
    mapped = protocol_methods(AsyncSidecar)
    assert set(schema.methods) == set(mapped), set(schema.methods) ^ set(mapped)
    assert protocol_methods(Sidecar) == mapped


def test_errors_match_schema(schema: ProtocolSchema) -> None:
    problems = error_problems(schema.doc)
    assert not problems, "\n".join(problems)
    for cls in ERRORS_BY_CODE.values():
        assert issubclass(cls, oauth_sidecar.SidecarError)
        assert cls.__name__ != "TimeoutError"


def _method(doc: Dict[str, Any], name: str) -> Dict[str, Any]:
    return next(m for m in doc["methods"] if m["name"] == name)


def _edit_add_method(doc):
    doc["methods"].append({"name": "frobnicate", "paramStructure": "by-name", "params": [],
                           "result": {"name": "r", "schema": {"type": "null"}}})
    return "frobnicate"


def _edit_remove_method(doc):
    doc["methods"].remove(_method(doc, "refresh"))
    return "refresh"


def _edit_add_required_param(doc):
    _method(doc, "createClient")["params"].append({"name": "tenantId", "required": True, "schema": {"type": "string"}})
    return "tenantId"


def _edit_make_param_required(doc):
    next(p for p in _method(doc, "getCredentials")["params"] if p["name"] == "account")["required"] = True
    return "account"


def _edit_add_result_member(doc):
    _method(doc, "initiateDeviceFlow")["result"]["schema"]["properties"]["pollingUri"] = {"type": "string"}
    return "pollingUri"


def _edit_add_nested_member(doc):
    tls = next(p for p in _method(doc, "createClient")["params"] if p["name"] == "tls")
    tls["schema"]["properties"]["clientCertificate"] = {"type": "string"}
    return "clientCertificate"


def _edit_add_notification(doc):
    doc["methods"].append({"name": "flowExpired", "paramStructure": "by-name", "x-direction": "server-to-client",
                           "x-notification": True, "params": [{"name": "flowId", "required": True, "schema": {"type": "string"}}]})
    return "flowExpired"


def _edit_add_notification_param(doc):
    _method(doc, "tokensObtained")["params"].append({"name": "account", "required": False, "schema": {"type": "string"}})
    return "account"


def _edit_result_becomes_array(doc):
    _method(doc, "getCredentials")["result"]["schema"] = {"type": "array", "items": {"type": "string"}}
    return "getCredentials"


@pytest.mark.parametrize("edit", [
    _edit_add_method, _edit_remove_method, _edit_add_required_param, _edit_make_param_required,
    _edit_add_result_member, _edit_add_nested_member, _edit_add_notification, _edit_add_notification_param,
    _edit_result_becomes_array,
], ids=lambda f: f.__name__[len("_edit_"):])
@pytest.mark.parametrize("cls", [AsyncSidecar, Sidecar], ids=["AsyncSidecar", "Sidecar"])
def test_drift_is_detected(schema: ProtocolSchema, cls: type, edit: Any) -> None:
    """The check is not vacuous: each kind of schema change is reported, naming what changed."""
    doc = copy.deepcopy(schema.doc)
    what = edit(doc)
    problems = drift_problems(doc, cls)
    assert problems and any(what in p or snake_case(what) in p for p in problems), problems


def test_error_drift_is_detected(schema: ProtocolSchema) -> None:
    doc = copy.deepcopy(schema.doc)
    doc["components"]["errors"]["RateLimited"] = {"code": -32010, "message": "Slow down."}
    doc["components"]["errors"]["OAuthError"]["data"]["properties"]["traceId"] = {"type": "string"}
    problems = error_problems(doc)
    assert any("RateLimited" in p for p in problems) and any("traceId" in p for p in problems), problems
    del doc["components"]["errors"]["InteractionRequired"]
    assert any("-32008" in p for p in error_problems(doc))


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
