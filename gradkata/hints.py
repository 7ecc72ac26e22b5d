"""The hints of ``gradkata hint``: from the catalog, and which ones a learner has seen.

Each exercise's table in ``gradkata/kata.toml`` (read by :mod:`gradkata.catalog`)
holds a list ``hints``, ordered from a nudge to nearly the answer. Which
hints were shown is kept per project in ``.gradkata/hints.json`` (next to
exercises/), so each call of ``gradkata hint EXERCISE`` shows the next one.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Dict, List

from . import catalog

STATE_FOLDER = ".gradkata"
STATE_FILE = "hints.json"


def load() -> Dict[str, List[str]]:
    """Every exercise's hints, in order: ``{"single_neuron": ["...", ...], ...}``."""
    return {name: list(given) for name, given in catalog.HINTS.items()}


def state_path(root: Path) -> Path:
    return root / STATE_FOLDER / STATE_FILE


def shown(root: Path) -> Dict[str, int]:
    """How many hints of each exercise the learner has seen."""
    try:
        with open(state_path(root), encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): int(v) for k, v in data.items() if isinstance(v, int) and v >= 0}


def record(root: Path, name: str, count: int) -> None:
    """Remember that ``count`` hints of ``name`` have been shown."""
    data = shown(root)
    data[name] = count
    path = state_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written to a temporary file and renamed: an interrupted write leaves the old state.
    fd, tmp = tempfile.mkstemp(dir=str(path.parent), prefix=".hints-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)
