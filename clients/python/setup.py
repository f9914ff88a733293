"""Build hook of the wheels; the metadata is in pyproject.toml. ``npm run release`` builds both wheels with it.

With ``OAUTH_SIDECAR_WHEEL_PLATFORM`` set (``manylinux_2_34_x86_64``, ``macosx_11_0_arm64``, ``win_amd64``, ...)
the wheel carries the sidecar executable, which the release copies to ``oauth_sidecar/bin/``, and is tagged
``py3-none-<platform>``: any Python 3, no Python ABI (the package is pure Python; the executable is a separate
program), that platform only. Without it the wheel is the pure ``py3-none-any`` one, which finds ``oauth-sidecar``
on PATH. Standard setuptools and wheel only (Debian: python3-setuptools python3-wheel).
"""

import os
from pathlib import Path

from setuptools import Distribution, setup

try:  # setuptools 70.1 and later
    from setuptools.command.bdist_wheel import bdist_wheel as _bdist_wheel
except ImportError:  # older setuptools: the wheel package's command
    from wheel.bdist_wheel import bdist_wheel as _bdist_wheel

PLATFORM = os.environ.get("OAUTH_SIDECAR_WHEEL_PLATFORM", "")
HERE = Path(__file__).resolve().parent
EXECUTABLES = sorted((HERE / "oauth_sidecar" / "bin").glob("oauth-sidecar*"))

if PLATFORM and not EXECUTABLES:
    raise SystemExit(f"OAUTH_SIDECAR_WHEEL_PLATFORM={PLATFORM}, but oauth_sidecar/bin/ holds no oauth-sidecar executable.")
if EXECUTABLES and not PLATFORM:
    raise SystemExit("oauth_sidecar/bin/ holds an executable: set OAUTH_SIDECAR_WHEEL_PLATFORM to the platform it runs on.")


class PlatformDistribution(Distribution):
    """A distribution with platform-specific content (the executable): not "pure", installed to platlib."""

    def has_ext_modules(self) -> bool:
        return True


class bdist_wheel(_bdist_wheel):
    """``py3-none-<platform>`` when the wheel carries the executable."""

    def get_tag(self):  # type: ignore[no-untyped-def]
        if PLATFORM:
            return "py3", "none", PLATFORM
        return super().get_tag()


setup(distclass=PlatformDistribution if PLATFORM else Distribution, cmdclass={"bdist_wheel": bdist_wheel})
