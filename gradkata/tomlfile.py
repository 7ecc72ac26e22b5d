"""The TOML reader: the standard library's from Python 3.11, tomli before it."""

from __future__ import annotations

import sys

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python < 3.11
    import tomli as tomllib

__all__ = ["tomllib"]
