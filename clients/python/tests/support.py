"""Helpers shared by the tests (importable; conftest.py holds the fixtures)."""

from __future__ import annotations

import asyncio
import functools
from typing import Any

#: Every async test's time limit (the whole suite takes well under a minute).
TEST_TIMEOUT = 90

#: The scopes of the provider's public client ``native-app`` that yield an id_token and a refresh token.
NATIVE_SCOPES = ["openid", "offline_access", "profile"]


def run_async(fn):
    """Runs a coroutine test function with asyncio.run (no pytest-asyncio needed)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return asyncio.run(asyncio.wait_for(fn(*args, **kwargs), TEST_TIMEOUT))

    return wrapper


def is_response_to(method: str, code: Any = None):
    """A recorder predicate: a received response to ``method`` (with that error code, if given)."""

    def predicate(direction: str, message: dict, answered: Any) -> bool:
        if direction != "receive" or "method" in message or answered != method:
            return False
        return code is None or (message.get("error") or {}).get("code") == code

    return predicate


def is_sent(method: str):
    """A recorder predicate: a request or notification ``method`` that we sent."""
    return lambda direction, message, _: direction == "send" and message.get("method") == method
