"""The reference's answers, recorded by the instructor's build, for the handout.

The learners' copy of the kata (``gradkata handout``) holds no reference code.
Its graded tests still ask the ``reference`` fixture for expected values; there
it is a :class:`RecordedReference`, which answers from a table of numbers. The
table is made in the full kata by one run of the graded suite against
``solutions/`` with ``--gradkata-record FILE``: every call a test makes to the
reference, its arguments (as a digest) and what came back. The graded tests
draw their examples from a fixed hypothesis seed, so the handout's run asks for
the same calls, or for fewer when a learner's test stops early; a call that was
not recorded (another hypothesis profile or seed) skips its test with a reason.

The table holds data only: JSON numbers and base64 array bytes, each read back
with its type and dtype (never pickle, which could carry code), and the
functions' signatures (parameter names and default numbers), which the messages
use to name arguments.
"""

from __future__ import annotations

import base64
import hashlib
import inspect
import json
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Dict, List, Optional

import numpy as np

# Where the handout keeps the table, relative to the kata's folder.
ANSWERS = Path("tests") / "reference_answers.json"
FORMAT = 1


class Unrecorded(LookupError):
    """A call to the reference that the instructor's build did not record."""


# --------------------------------------------------------------------------
# Arguments: a digest that is equal exactly when the calls are


def _canon(value: Any) -> Any:
    """A JSON-able form of a call's argument that keeps its types, dtypes and bits."""
    from .probes import Probe

    if isinstance(value, np.ndarray):
        return ["ndarray", value.dtype.str, list(value.shape),
                np.ascontiguousarray(value).tobytes().hex()]
    if isinstance(value, np.generic):
        return ["scalar", value.dtype.str, value.tobytes().hex()]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return ["int", str(value)]
    if isinstance(value, float):
        return ["float", value.hex()]
    if isinstance(value, (list, tuple)):
        return [type(value).__name__, [_canon(v) for v in value]]
    if isinstance(value, dict):
        return ["dict", [[str(k), _canon(v)] for k, v in sorted(value.items())]]
    if isinstance(value, Probe):
        return ["probe", value.name, _canon(value.params)]
    raise TypeError(f"gradkata: cannot record an argument of type {type(value).__name__}")


def call_key(args: tuple, kwargs: Dict[str, Any]) -> str:
    text = json.dumps([_canon(list(args)), _canon(kwargs)], separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


# --------------------------------------------------------------------------
# Results: written and read back with their exact types


def encode(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        data = base64.b64encode(np.ascontiguousarray(value).tobytes()).decode()
        return {"ndarray": value.dtype.str, "shape": list(value.shape), "data": data}
    if isinstance(value, np.generic):
        return {"scalar": value.dtype.str, "data": value.tobytes().hex()}
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return {"int": str(value)}
    if isinstance(value, float):
        return {"float": value.hex()}
    if isinstance(value, (list, tuple)):
        return {type(value).__name__: [encode(v) for v in value]}
    raise TypeError(f"gradkata: cannot record a result of type {type(value).__name__}")


def decode(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    if "ndarray" in value:
        raw = base64.b64decode(value["data"])
        return np.frombuffer(raw, dtype=np.dtype(value["ndarray"])).reshape(value["shape"]).copy()
    if "scalar" in value:
        return np.frombuffer(bytes.fromhex(value["data"]), dtype=np.dtype(value["scalar"]))[0]
    if "int" in value:
        return int(value["int"])
    if "float" in value:
        return float.fromhex(value["float"])
    if "list" in value:
        return [decode(v) for v in value["list"]]
    if "tuple" in value:
        return tuple(decode(v) for v in value["tuple"])
    raise ValueError(f"gradkata: unknown recorded value {sorted(value)}")


def _signature_of(function: Callable[..., Any]) -> List[List[Any]]:
    """[name] or [name, default] for each parameter (the kata's are all plain ones)."""
    out: List[List[Any]] = []
    for parameter in inspect.signature(function).parameters.values():
        if parameter.kind is not parameter.POSITIONAL_OR_KEYWORD:
            raise TypeError(f"gradkata: {function.__name__}: only plain parameters are recorded")
        out.append([parameter.name] if parameter.default is parameter.empty
                   else [parameter.name, encode(parameter.default)])
    return out


def _signature(recorded: List[List[Any]]) -> inspect.Signature:
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    return inspect.Signature([
        inspect.Parameter(p[0], kind, default=decode(p[1]) if len(p) > 1 else
                          inspect.Parameter.empty) for p in recorded])


# --------------------------------------------------------------------------
# Recording (the instructor's build) and answering (the handout)


class Recorder:
    """Collects the calls made to the reference modules during one pytest run."""

    def __init__(self) -> None:
        self.exercises: Dict[str, Dict[str, Any]] = {}

    def wrap(self, name: str, module: ModuleType) -> Any:
        entry = self.exercises.setdefault(name, {"signatures": {}, "answers": {}})
        for attr, value in vars(module).items():
            if inspect.isfunction(value) and value.__module__ == module.__name__ \
                    and not attr.startswith("_"):
                entry["signatures"][attr] = _signature_of(value)
        return _RecordingModule(module, entry["answers"])

    def write(self, path: Path) -> None:
        """Write the table to ``path``, adding to what a run before this one wrote there
        (the handout's build runs the suite once per hypothesis profile)."""
        exercises: Dict[str, Any] = {}
        if path.is_file():
            exercises = json.loads(path.read_text(encoding="utf-8"))["exercises"]
        for name, entry in self.exercises.items():
            old = exercises.setdefault(name, {"signatures": {}, "answers": {}})
            old["signatures"].update(entry["signatures"])
            for function, answers in entry["answers"].items():
                old["answers"].setdefault(function, {}).update(answers)
        table = {"format": FORMAT, "exercises": exercises}
        path.write_text(json.dumps(table, sort_keys=True, separators=(",", ":")) + "\n",
                        encoding="utf-8")


class _RecordingModule:
    def __init__(self, module: ModuleType, answers: Dict[str, Dict[str, Any]]) -> None:
        self._module = module
        self._answers = answers

    def __getattr__(self, attr: str) -> Any:
        function = getattr(self._module, attr)
        if not callable(function):
            return function
        answers = self._answers.setdefault(attr, {})

        def recording(*args: Any, **kwargs: Any) -> Any:
            key = call_key(args, kwargs)  # before the call, in case it changes its arguments
            result = function(*args, **kwargs)
            answers[key] = encode(result)
            return result

        recording.__signature__ = inspect.signature(function)  # type: ignore[attr-defined]
        recording.__name__ = attr
        return recording


class RecordedReference:
    """Stands for ``solutions/<name>.py`` in the handout: the recorded answers."""

    def __init__(self, name: str, entry: Dict[str, Any],
                 missing: Optional[Callable[[str], Any]] = None) -> None:
        self._name = name
        self._entry = entry
        self._missing = missing  # what to do about an unrecorded call (pytest.skip); else raise

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("_") or attr not in self._entry["signatures"]:
            raise AttributeError(attr)
        answers = self._entry["answers"].get(attr, {})

        def answer(*args: Any, **kwargs: Any) -> Any:
            key = call_key(args, kwargs)
            if key not in answers:
                why = (f"gradkata: the handout holds the reference's answers for the graded "
                       f"tests' own examples only, and this call of {self._name}.{attr} is not "
                       "among them (another hypothesis profile or seed?). Run pytest without "
                       "those options.")
                if self._missing is not None:
                    self._missing(why)
                raise Unrecorded(why)
            return decode(answers[key])

        answer.__signature__ = _signature(self._entry["signatures"][attr])  # type: ignore
        answer.__name__ = attr
        return answer


def load(rootdir: Path, name: str,
         missing: Optional[Callable[[str], Any]] = None) -> Optional[RecordedReference]:
    """The recorded reference of exercise ``name`` in the kata at ``rootdir``, if it has one."""
    path = rootdir / ANSWERS
    if not path.is_file():
        return None
    table = _read(path)
    entry = table["exercises"].get(name)
    return RecordedReference(name, entry, missing) if entry is not None else None


_tables: Dict[Any, Dict[str, Any]] = {}


def _read(path: Path) -> Dict[str, Any]:
    stat = path.stat()
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    if key not in _tables:
        table = json.loads(path.read_text(encoding="utf-8"))
        if table.get("format") != FORMAT:
            raise RuntimeError(f"gradkata: {path} was written by another version of gradkata; "
                               "rebuild the handout")
        _tables[key] = table
    return _tables[key]
