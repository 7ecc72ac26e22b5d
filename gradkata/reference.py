"""The reference solutions, ``solutions/<name>.py``: trusted code, imported in this process.

The judge (the plugin's ``reference`` fixture) and the figures (for signatures in
messages) load them here, and only here. A module already imported is reused,
keyed by its path, modification time and size: grading many times in one
process imports each reference once, unless its file changed. In the handout,
which has no solutions/, the answers its build recorded stand in
(:mod:`gradkata.recorded`).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Dict, Optional, Tuple

_loaded: Dict[Tuple[str, int, int], ModuleType] = {}


class ReferenceMissing(RuntimeError):
    """The reference module is not there, or cannot be imported as a module."""


def load(root: Path, name: str, missing: Optional[Callable[[str], Any]] = None) -> Any:
    """The reference module ``solutions/<name>.py`` of the kata in ``root``; without
    it, the recorded answers (``missing`` is what they call for a call they do not
    cover: see :func:`gradkata.recorded.load`)."""
    path = Path(root) / "solutions" / f"{name}.py"
    try:
        stat = path.stat()
    except OSError:
        from . import recorded

        answers = recorded.load(Path(root), name, missing=missing)
        if answers is not None:
            return answers
        raise ReferenceMissing(f"gradkata: the reference {path} is missing") from None
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    if key not in _loaded:
        spec = importlib.util.spec_from_file_location(f"_gradkata_reference.{name}", path)
        if spec is None or spec.loader is None:
            raise ReferenceMissing(f"gradkata: the reference {path} cannot be imported")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _loaded[key] = module
    return _loaded[key]
