"""Finding the executable the way an installed package does: the one inside the package (a platform wheel),
the repository's builds only inside the repository, then ``oauth-sidecar`` on PATH."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

from oauth_sidecar import SidecarNotFoundError, find_sidecar
from oauth_sidecar import _spawn

EXE = ".exe" if sys.platform == "win32" else ""


def _file(path: Path, mode: int = 0o755) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    path.chmod(mode)
    return path


def test_the_executable_inside_the_package_comes_first_after_the_environment(tmp_path: Any, monkeypatch: Any) -> None:
    bundled = _file(tmp_path / "site-packages" / "oauth_sidecar" / "bin" / ("oauth-sidecar" + EXE), 0o644)
    monkeypatch.setattr(_spawn, "bundled_sidecar", lambda: bundled)
    monkeypatch.delenv("OAUTH_SIDECAR_PATH", raising=False)
    monkeypatch.setenv("PATH", str(_file(tmp_path / "bin" / "oauth-sidecar").parent))
    assert find_sidecar() == [str(bundled)]  # before the repository's builds and PATH
    if sys.platform != "win32":
        assert os.access(bundled, os.X_OK), "a lost executable bit is put back"
    other = _file(tmp_path / "elsewhere" / "oauth-sidecar")
    monkeypatch.setenv("OAUTH_SIDECAR_PATH", str(other))
    assert find_sidecar() == [str(other)]  # the environment wins


def test_outside_the_repository_a_pure_wheel_uses_path_and_says_what_to_install(tmp_path: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(_spawn, "bundled_sidecar", lambda: tmp_path / "not-there" / "oauth-sidecar")
    monkeypatch.setattr(_spawn, "repository_root", lambda start=None: None)
    monkeypatch.delenv("OAUTH_SIDECAR_PATH", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(SidecarNotFoundError) as raised:
        find_sidecar()
    message = str(raised.value)
    assert "platform wheel" in message and "pip install oauth-sidecar" in message
    assert "OAUTH_SIDECAR_PATH" in message and "oauth-sidecar on PATH" in message
    on_path = _file(tmp_path / "bin" / ("oauth-sidecar" + EXE))
    monkeypatch.setenv("PATH", str(on_path.parent))
    assert find_sidecar() == [str(on_path)]


def test_inside_the_repository_its_builds_come_before_path(tmp_path: Any, monkeypatch: Any) -> None:
    repo = tmp_path / "repo"
    aot = _file(repo / "artifacts" / "aot" / ("oauth-sidecar" + EXE))
    monkeypatch.setattr(_spawn, "bundled_sidecar", lambda: tmp_path / "not-there" / "oauth-sidecar")
    monkeypatch.setattr(_spawn, "repository_root", lambda start=None: repo)
    monkeypatch.delenv("OAUTH_SIDECAR_PATH", raising=False)
    monkeypatch.setenv("PATH", str(_file(tmp_path / "bin" / "oauth-sidecar").parent))
    assert find_sidecar() == [str(aot)]
