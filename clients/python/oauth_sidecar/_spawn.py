"""Finding the ``oauth-sidecar`` executable and building its command line."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import List, Optional, Sequence, Union

from ._errors import SidecarNotFoundError

__all__ = ["bundled_sidecar", "find_sidecar", "repository_root", "sidecar_arguments"]

PathLike = Union[str, "os.PathLike[str]"]
Executable = Union[PathLike, Sequence[str]]

ENV_VAR = "OAUTH_SIDECAR_PATH"
_EXE = ".exe" if sys.platform == "win32" else ""


def repository_root(start: Optional[Path] = None) -> Optional[Path]:
    """The OAuth Sidecar repository this package lives in (``clients/python/oauth_sidecar``), if any."""
    here = (start or Path(__file__)).resolve()
    for parent in list(here.parents)[:6]:
        if (parent / "OAuthSidecar.sln").is_file():
            return parent
    return None


def _dotnet() -> str:
    found = shutil.which("dotnet")
    if found:
        return found
    root = os.environ.get("DOTNET_ROOT")
    if root and Path(root, "dotnet" + _EXE).is_file():
        return str(Path(root, "dotnet" + _EXE))
    return "dotnet"


def _command_for(executable: Executable, origin: str) -> List[str]:
    if not isinstance(executable, (str, os.PathLike)):
        command = [os.fspath(part) for part in executable]
        if not command:
            raise ValueError("the sidecar command is empty")
        return command
    path = os.fspath(executable)
    if path.lower().endswith(".dll"):
        if not Path(path).is_file():
            raise SidecarNotFoundError(f"{origin} names {path}, which does not exist.")
        return [_dotnet(), str(Path(path).resolve())]
    if Path(path).is_file():
        return [str(Path(path).resolve())]
    found = shutil.which(path)
    if found:
        return [found]
    raise SidecarNotFoundError(f"{origin} names {path}, which is neither a file nor a command on PATH.")


def bundled_sidecar() -> Path:
    """Where a platform wheel puts the executable: ``oauth_sidecar/bin/oauth-sidecar`` inside this package."""
    return Path(__file__).resolve().parent / "bin" / ("oauth-sidecar" + _EXE)


def _bundled() -> Optional[str]:
    path = bundled_sidecar()
    if not path.is_file():
        return None
    if not os.access(path, os.X_OK) and sys.platform != "win32":
        # An installer that dropped the executable bit: put it back when we may.
        try:
            path.chmod(path.stat().st_mode | 0o111)
        except OSError:
            pass
    return str(path)


def find_sidecar(executable: Optional[Executable] = None) -> List[str]:
    """The command that starts the sidecar, searched in this order:

    1. ``executable``: a path (a ``.dll`` runs with ``dotnet``), a command name on ``PATH``, or a full
       command as a sequence (``["dotnet", "oauth-sidecar.dll"]``);
    2. the environment variable ``OAUTH_SIDECAR_PATH`` (an executable, or a ``.dll`` run with ``dotnet``);
    3. the executable inside this package (``oauth_sidecar/bin/oauth-sidecar``), which the platform wheels
       (``oauth_sidecar-<version>-py3-none-manylinux_…_x86_64.whl``, …) carry;
    4. only when this package lives in the oauth-sidecar repository: the NativeAOT executable
       ``artifacts/aot/oauth-sidecar``, else ``dotnet`` with ``src/OAuthSidecar/bin/Release/net*/oauth-sidecar.dll``,
       else the Debug one (a checkout uses its own build rather than an installed one);
    5. ``oauth-sidecar`` on ``PATH`` (the pure wheel relies on it: the dotnet tool, or a release archive).

    Raises :class:`SidecarNotFoundError` (a ``FileNotFoundError``) listing what was tried.
    """
    if executable is not None:
        return _command_for(executable, "The executable argument")
    from_env = os.environ.get(ENV_VAR)
    if from_env:
        return _command_for(from_env, f"${ENV_VAR}")
    tried = [f"${ENV_VAR} (not set)"]
    bundled = _bundled()
    tried.append(str(bundled_sidecar()))
    if bundled is not None:
        return [bundled]
    root = repository_root()
    if root is not None:
        aot = root / "artifacts" / "aot" / ("oauth-sidecar" + _EXE)
        tried.append(str(aot))
        if aot.is_file() and os.access(aot, os.X_OK):
            return [str(aot)]
        for configuration in ("Release", "Debug"):
            pattern = f"src/OAuthSidecar/bin/{configuration}/net*/oauth-sidecar.dll"
            tried.append(str(root / pattern))
            dlls = sorted(root.glob(pattern), key=lambda p: p.stat().st_mtime, reverse=True)
            if dlls:
                return [_dotnet(), str(dlls[0])]
    found = shutil.which("oauth-sidecar")
    tried.append("oauth-sidecar on PATH")
    if found:
        return [found]
    raise SidecarNotFoundError(
        "The oauth-sidecar executable was not found. Install the platform wheel that carries it "
        "(pip install oauth-sidecar, which picks the wheel for this platform; the pure py3-none-any wheel has no "
        "executable), or put oauth-sidecar on PATH (dotnet tool install --global oauth-sidecar, or a release "
        "archive), or set OAUTH_SIDECAR_PATH, or pass it to spawn(). Tried: " + ", ".join(tried) + ".")


def sidecar_arguments(
    *,
    framing: str = "lsp",
    storage: Optional[str] = None,
    log_level: Optional[str] = None,
    max_message_bytes: Optional[int] = None,
    args: Sequence[str] = (),
) -> List[str]:
    """The command-line options of ``oauth-sidecar [stdio]``."""
    out: List[str] = []
    if framing != "lsp":
        out += ["--framing", framing]
    if storage is not None:
        out += ["--storage", storage]
    if log_level is not None:
        out += ["--log-level", log_level]
    if max_message_bytes is not None:
        out += ["--max-message-bytes", str(max_message_bytes)]
    out += [os.fspath(a) for a in args]
    return out
