"""Fixtures: the real test OpenID provider (tests/idp/server.mjs), the real sidecar, schema validation.

Run from the repository root: ``python3 -m pytest clients/python/tests`` (Debian's python3 has pytest and
jsonschema: ``apt-get install python3-pytest python3-jsonschema``). The sidecar is $OAUTH_SIDECAR_PATH,
else the Release build (``dotnet build OAuthSidecar.sln -c Release``), else what ``find_sidecar`` finds.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Dict, List, Set

import pytest

HERE = Path(__file__).resolve().parent
CLIENT_ROOT = HERE.parent
REPO = CLIENT_ROOT.parent.parent
if str(CLIENT_ROOT) not in sys.path:
    sys.path.insert(0, str(CLIENT_ROOT))

from oauth_sidecar import AsyncSidecar, Sidecar, find_sidecar  # noqa: E402
from protocol_schema import MessageRecorder, ProtocolSchema  # noqa: E402

_COVERAGE: Set[str] = set()


def pytest_terminal_summary(terminalreporter: Any, config: Any) -> None:
    if _COVERAGE:
        kinds = sorted(_COVERAGE)
        terminalreporter.write_line(
            f"schema-validated message kinds: {len(kinds)} "
            f"({sum(1 for k in kinds if k.startswith('receive'))} received, {sum(1 for k in kinds if k.startswith('send'))} sent)"
            + ("" if config.option.verbose > 0 else "; -v lists them"))
        if config.option.verbose > 0:
            for kind in kinds:
                terminalreporter.write_line(f"  {kind}")


# ---------------------------------------------------------------------------------------------
# The schema.


@pytest.fixture(scope="session")
def schema() -> ProtocolSchema:
    return ProtocolSchema.load()


@pytest.fixture
def recorder(schema: ProtocolSchema):
    """Validates every message of the test against the schema; fails the test at teardown on a mismatch."""
    rec = MessageRecorder(schema, _COVERAGE)
    yield rec
    rec.assert_valid()


# ---------------------------------------------------------------------------------------------
# The test OpenID provider.


class Provider:
    def __init__(self, info: Dict[str, Any]) -> None:
        self.issuer: str = info["issuer"]
        self.control_url: str = info["control"]
        self.info = info

    def control(self, path: str, body: Any = None, method: str = "POST") -> Any:
        """Calls the provider's /__test control API (it plays the user)."""
        data = None if body is None and method == "GET" else json.dumps(body or {}).encode()
        request = urllib.request.Request(self.control_url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as e:
            raise AssertionError(f"{path}: HTTP {e.code} {e.read()[:500]!r}") from None

    def authorize(self, url: str, **options: Any) -> Any:
        """The user signs in and consents at ``url``; the provider delivers the response to the redirect URI."""
        return self.control("/authorize", dict(options, url=url))

    def approve_device(self, user_code: str, **options: Any) -> Any:
        return self.control("/device", dict(options, userCode=user_code))


@pytest.fixture(scope="session")
def idp():
    with _provider("--device-interval", "1") as provider:
        yield provider


@pytest.fixture(scope="session")
def dpop_idp():
    """The provider with DPoP on and its PAR endpoint advertised (``--dpop --par``); ``/rs/`` checks DPoP proofs."""
    with _provider("--dpop", "--par") as provider:
        yield provider


@contextlib.contextmanager
def _provider(*arguments: str):
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is needed for the test provider (tests/idp/server.mjs)")
    process = subprocess.Popen(
        [node, str(REPO / "tests" / "idp" / "server.mjs"), *arguments],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO)
    stderr_lines: List[bytes] = []
    drain = threading.Thread(target=lambda: stderr_lines.extend(process.stderr), daemon=True)  # type: ignore[arg-type]
    drain.start()
    line = process.stdout.readline()  # type: ignore[union-attr]
    if not line:
        process.wait(10)
        pytest.fail("the test provider did not start (did `npm install` run at the repository root?):\n"
                    + b"".join(stderr_lines).decode(errors="replace")[-2000:])
    try:
        yield Provider(json.loads(line))
    finally:
        process.stdin.close()  # type: ignore[union-attr]  # it exits at the end of its stdin
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        drain.join(5)
        process.stdout.close()  # type: ignore[union-attr]
        process.stderr.close()  # type: ignore[union-attr]


# ---------------------------------------------------------------------------------------------
# The sidecar.


@pytest.fixture(scope="session")
def sidecar_command() -> List[str]:
    if os.environ.get("OAUTH_SIDECAR_PATH"):
        return find_sidecar()
    for configuration in ("Release", "Debug"):
        dlls = sorted((REPO / "src" / "OAuthSidecar" / "bin" / configuration).glob("net*/oauth-sidecar.dll"))
        if dlls:
            return find_sidecar(dlls[-1])
    return find_sidecar()


@pytest.fixture(scope="session")
def sidecar_env(tmp_path_factory: Any) -> Dict[str, str]:
    """No display and no $BROWSER: the sidecar never launches a real browser in these tests."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "BROWSER")}
    env["OAUTH_SIDECAR_DATA_DIR"] = str(tmp_path_factory.mktemp("sidecar-data"))
    env.setdefault("DOTNET_CLI_TELEMETRY_OPTOUT", "1")
    env.setdefault("DOTNET_NOLOGO", "1")
    return env


@pytest.fixture
def open_async(sidecar_command: List[str], sidecar_env: Dict[str, str], recorder: MessageRecorder):
    """``async with open_async() as sidecar``: an AsyncSidecar (memory storage) whose messages are validated.

    It must exit with code 0 after close() (shutdown, then exit).
    """

    @contextlib.asynccontextmanager
    async def opener(**options: Any):
        options.setdefault("storage", "memory")
        sidecar = await AsyncSidecar.spawn(sidecar_command, env=sidecar_env, message_hook=recorder.hook, **options)
        try:
            yield sidecar
        finally:
            code = await sidecar.close()
            assert code == 0, f"the sidecar exited with {code}:\n{sidecar.stderr_tail}"

    return opener


@pytest.fixture
def sidecar(sidecar_command: List[str], sidecar_env: Dict[str, str], recorder: MessageRecorder):
    """A blocking Sidecar (memory storage) whose messages are validated; closed (exit code 0) at teardown."""
    s = Sidecar.spawn(sidecar_command, env=sidecar_env, storage="memory", message_hook=recorder.hook)
    try:
        yield s
    finally:
        code = s.close()
        assert code == 0, f"the sidecar exited with {code}:\n{s.stderr_tail}"

