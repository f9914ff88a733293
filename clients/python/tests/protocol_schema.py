"""Validation of raw JSON-RPC messages against schema/oauth-sidecar.openrpc.json (tests only).

Every schema is validated with ``Draft202012Validator`` in the context of the whole OpenRPC document, so
``$ref``s to ``#/components/...`` resolve: the validator's root schema is the document itself plus a
``$ref`` to the sub-schema wanted (OpenRPC's own members are unknown keywords, which JSON Schema ignores).
That works with jsonschema 4.10 (Debian 12, RefResolver) and with the ``referencing`` versions alike.
"""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

try:
    from jsonschema import Draft202012Validator
except ImportError as e:  # pragma: no cover - a setup problem, said plainly
    raise ImportError("The Python client's tests validate every message with jsonschema (>= 4.0): "
                      "apt-get install python3-jsonschema, or pip install jsonschema.") from e

REPO = Path(__file__).resolve().parents[3]
SCHEMA_PATH = REPO / "schema" / "oauth-sidecar.openrpc.json"

ENVELOPE_KEYS = {"jsonrpc", "id", "method", "params", "result", "error"}
STANDARD_ERRORS = ("ParseError", "InvalidRequest", "MethodNotFound", "InvalidParams", "InternalError")


class ProtocolSchema:
    """The OpenRPC document: method tables and message validation."""

    def __init__(self, document: Dict[str, Any]) -> None:
        self.doc = document
        self.methods: Dict[str, Tuple[int, Dict[str, Any]]] = {
            m["name"]: (i, m) for i, m in enumerate(document["methods"])}
        self.errors: Dict[str, Dict[str, Any]] = document["components"]["errors"]
        self.error_names_by_code = {spec["code"]: name for name, spec in self.errors.items()}
        self._validators: Dict[str, Draft202012Validator] = {}

    @classmethod
    def load(cls, path: Path = SCHEMA_PATH) -> "ProtocolSchema":
        return cls(json.loads(path.read_text(encoding="utf-8")))

    # -- tables -----------------------------------------------------------------------------

    def client_requests(self) -> List[str]:
        """Requests the caller sends (methods that are neither server-to-client nor notifications)."""
        return [n for n, (_, m) in self.methods.items() if not m.get("x-direction") and not m.get("x-notification")]

    def client_notifications(self) -> List[str]:
        return [n for n, (_, m) in self.methods.items() if not m.get("x-direction") and m.get("x-notification")]

    def server_messages(self) -> List[str]:
        return [n for n, (_, m) in self.methods.items() if m.get("x-direction") == "server-to-client"]

    def is_server_notification(self, name: str) -> bool:
        m = self.methods[name][1]
        return m.get("x-direction") == "server-to-client" and bool(m.get("x-notification"))

    def params(self, name: str) -> List[Dict[str, Any]]:
        return self.methods[name][1].get("params", [])

    def method_error_names(self, name: Optional[str]) -> List[str]:
        if name is None or name not in self.methods:
            return list(STANDARD_ERRORS)
        out = []
        for entry in self.methods[name][1].get("errors", []):
            ref = entry.get("$ref", "")
            out.append(ref.rsplit("/", 1)[-1] if ref else entry.get("name"))
        return out

    # -- validators -------------------------------------------------------------------------

    def _validator(self, key: str, schema: Dict[str, Any]) -> Draft202012Validator:
        validator = self._validators.get(key)
        if validator is None:
            root = dict(self.doc)
            root.update(schema)
            validator = Draft202012Validator(root)
            self._validators[key] = validator
        return validator

    def _errors_of(self, key: str, schema: Dict[str, Any], instance: Any) -> List[str]:
        validator = self._validator(key, schema)
        return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
                for e in validator.iter_errors(instance)]

    def validate_params(self, name: str, params: Any) -> List[str]:
        index, method = self.methods[name]
        descriptors = method.get("params", [])
        required = [p["name"] for p in descriptors if p.get("required")]
        if params is None:
            return [f"params are missing; required: {required}"] if required else []
        if method.get("paramStructure", "by-name") == "by-name" and not isinstance(params, dict):
            return ["params must be an object (paramStructure by-name)"]
        schema = {
            "type": "object",
            "properties": {p["name"]: {"$ref": f"#/methods/{index}/params/{j}/schema"} for j, p in enumerate(descriptors)},
            "required": required,
            "additionalProperties": False,
        }
        return self._errors_of(f"params:{name}", schema, params)

    def validate_result(self, name: str, result: Any) -> List[str]:
        index, method = self.methods[name]
        if "result" not in method:
            return [f"{name} has no result in the schema (a notification?)"]
        return self._errors_of(f"result:{name}", {"$ref": f"#/methods/{index}/result/schema"}, result)

    def validate_error(self, name: Optional[str], error: Any) -> List[str]:
        if not isinstance(error, dict):
            return ["error must be an object"]
        problems = []
        if not isinstance(error.get("code"), int):
            problems.append("error.code must be an integer")
        if not isinstance(error.get("message"), str) or not error.get("message"):
            problems.append("error.message must be a non-empty string")
        if set(error) - {"code", "message", "data"}:
            problems.append(f"unexpected error members {sorted(set(error) - {'code', 'message', 'data'})}")
        allowed = self.method_error_names(name)
        error_name = self.error_names_by_code.get(error.get("code"))
        if error_name is None:
            return problems + [f"error code {error.get('code')} is not in components.errors"]
        if error_name not in allowed:
            problems.append(f"error {error_name} ({error.get('code')}) is not listed for {name}: {allowed}")
        spec = self.errors[error_name]
        if "data" in spec:
            if "data" not in error:
                problems.append(f"{error_name} needs data")
            else:
                problems += self._errors_of(f"error:{error_name}", {"$ref": f"#/components/errors/{error_name}/data"},
                                            error["data"])
        elif error.get("data") is not None:
            problems.append(f"{error_name} has no data in the schema, but the error carries {error['data']!r}")
        return problems

    def validate_message(self, direction: str, message: Any, method: Optional[str]) -> Tuple[str, List[str]]:
        """Validates one raw message; returns (its kind, problems)."""
        if not isinstance(message, dict):
            return "invalid", ["a message must be a JSON object"]
        problems = []
        if message.get("jsonrpc") != "2.0":
            problems.append('jsonrpc must be "2.0"')
        if set(message) - ENVELOPE_KEYS:
            problems.append(f"unexpected members {sorted(set(message) - ENVELOPE_KEYS)}")
        name = message.get("method")
        if isinstance(name, str):
            is_request = "id" in message
            kind = f"{direction} {'request' if is_request else 'notification'} {name}"
            if "id" in message and not isinstance(message["id"], (int, str)):
                problems.append("a request id must be an integer or a string")
            if "result" in message or "error" in message:
                problems.append("a request or notification has no result or error")
            if name not in self.methods:
                return kind, problems + [f"{name} is not in the schema"]
            m = self.methods[name][1]
            from_server = m.get("x-direction") == "server-to-client"
            if from_server != (direction == "receive"):
                problems.append(f"{name} goes {'server-to-client' if from_server else 'client-to-server'}, "
                                f"but it was {'received' if direction == 'receive' else 'sent'}")
            if bool(m.get("x-notification")) == is_request:
                problems.append(f"{name} is {'a notification' if m.get('x-notification') else 'a request'} in the schema")
            return kind, problems + self.validate_params(name, message.get("params"))
        # A response.
        kind = f"{direction} response {method}"
        if "id" not in message:
            problems.append("a response needs an id")
        if ("result" in message) == ("error" in message):
            problems.append("a response has exactly one of result and error")
        if "error" in message:
            return f"{kind} error", problems + self.validate_error(method, message["error"])
        if method is None:
            return kind, problems + ["a response to no known request"]
        if method not in self.methods:
            return kind, problems + [f"a result for {method}, which is not in the schema"]
        return f"{kind} result", problems + self.validate_result(method, message.get("result"))


class MessageRecorder:
    """A client ``message_hook`` that validates and records every raw message of one test.

    Problems in received messages always fail the test (at teardown). Problems in sent messages fail it
    too, unless the test sends invalid ones on purpose (``expect_invalid_requests``).
    """

    def __init__(self, schema: ProtocolSchema, coverage: Optional[Set[str]] = None) -> None:
        self.schema = schema
        self.messages: List[Tuple[str, Dict[str, Any], Optional[str]]] = []
        self.problems: List[str] = []
        self.outgoing_problems: List[str] = []
        self.validated = 0
        self.coverage = coverage if coverage is not None else set()
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._waiters: List[Tuple[Callable[[str, Dict[str, Any], Optional[str]], bool], asyncio.Future, asyncio.AbstractEventLoop]] = []
        self.permit_invalid_outgoing: Set[str] = set()

    def expect_invalid_requests(self, *methods: str) -> None:
        """This test sends requests ``methods`` with invalid params (or unknown methods) on purpose."""
        self.permit_invalid_outgoing.update(methods)

    def hook(self, direction: str, message: Dict[str, Any], method: Optional[str]) -> None:
        copy = json.loads(json.dumps(message))
        kind, problems = self.schema.validate_message(direction, copy, method)
        with self._cond:
            self.messages.append((direction, copy, method))
            self.validated += 1
            self.coverage.add(kind)
            for p in problems:
                line = f"{kind}: {p} -- {json.dumps(copy)[:400]}"
                if direction == "receive":
                    self.problems.append(line)
                elif (method or copy.get("method")) not in self.permit_invalid_outgoing:
                    self.outgoing_problems.append(line)
            still = []
            for predicate, future, loop in self._waiters:
                if predicate(direction, copy, method):
                    loop.call_soon_threadsafe(_resolve, future, copy)
                else:
                    still.append((predicate, future, loop))
            self._waiters = still
            self._cond.notify_all()

    def find(self, predicate: Callable[[str, Dict[str, Any], Optional[str]], bool]) -> Optional[Dict[str, Any]]:
        with self._lock:
            for direction, message, method in self.messages:
                if predicate(direction, message, method):
                    return message
        return None

    def wait(self, predicate: Callable[[str, Dict[str, Any], Optional[str]], bool], timeout: float = 20) -> Dict[str, Any]:
        """Blocks until a message matching ``predicate(direction, message, method)`` was seen."""
        found: List[Dict[str, Any]] = []

        def check() -> bool:
            for direction, message, method in self.messages:
                if predicate(direction, message, method):
                    found.append(message)
                    return True
            return False

        with self._cond:
            if not self._cond.wait_for(check, timeout):
                raise AssertionError(f"no matching message within {timeout} s")
        return found[0]

    async def wait_async(self, predicate: Callable[[str, Dict[str, Any], Optional[str]], bool], timeout: float = 20) -> Dict[str, Any]:
        """The same from a coroutine (does not block the event loop)."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        with self._lock:
            for direction, message, method in self.messages:
                if predicate(direction, message, method):
                    return message
            self._waiters.append((predicate, future, loop))
        return await asyncio.wait_for(future, timeout)

    def received(self, kind: str) -> List[Dict[str, Any]]:
        """Received notifications/requests of one method."""
        with self._lock:
            return [m for d, m, _ in self.messages if d == "receive" and m.get("method") == kind]

    def assert_valid(self) -> None:
        problems = self.problems + self.outgoing_problems
        assert not problems, "messages that do not match the schema:\n" + "\n".join(problems)


def _resolve(future: asyncio.Future, value: Any) -> None:
    if not future.done():
        future.set_result(value)
