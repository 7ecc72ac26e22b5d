"""Run a learner's module in a child process and call its functions from the judge.

The judge (the pytest process that holds the expected values, the comparisons
and the score) never executes learner code. Each exercise module is imported
in its own worker process, a child of multiprocessing's fork server that holds
only numpy, gradkata.probes, gradkata.jail and this module; a call sends the
arguments down a pipe and reads back the return value. So whatever the
learner's code does (loop forever, call ``os._exit(0)``, monkeypatch numpy or
pytest, print megabytes, ask for terabytes) happens in the worker and costs at
most that call.

The two sides talk in the messages defined under "The protocol" below, one
NamedTuple per kind; docs/maintainers.md walks through a call, a callback, a
timeout and a crash. What the worker sends is unpickled with a whitelist
(plain Python values and numpy arrays and scalars), so a return value cannot
run code in the judge. The judge's own functions passed as arguments (``f`` in
``numerical_gradient(f, x)``) stay in the judge: the worker calls back through
the pipe. A :class:`gradkata.probes.Probe` is run in the worker instead, from
the trusted module :mod:`gradkata.probes`.

This module imports only the standard library, numpy, gradkata.probes and
gradkata.jail, all at the top: it is also what the worker process runs, and the
worker has it (and everything it needs) before the jail hides the kata's
folder and before the learner's module is imported.
"""

from __future__ import annotations

import copy
import ctypes
import importlib.util
import io
import multiprocessing
import os
import pickle
import signal
import sys
import time
import traceback
import types
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple, Type

import numpy as np

from . import jail, runner
from .output import OUTPUT_LIMIT, cut
from .probes import Probe

try:
    import resource
except ImportError:  # not Unix: no memory limit, the time limit still holds
    resource = None  # type: ignore[assignment]

MEMORY_HEADROOM = 2 * 1024**3  # bytes a worker may allocate beyond its start-up size
IMPORT_SECONDS = 10.0  # how long importing a learner module may take
DEFAULT_CALL_SECONDS = 10.0  # limit for a call made outside a timed test

_PR_SET_DUMPABLE = 4  # prctl(2)
# Modules a learner's code may not import: the reference, and the grader itself.
_FORBIDDEN = ("solutions", "gradkata", "_gradkata_reference", "tests", "conftest")


# --------------------------------------------------------------------------
# What the judge raises. Each carries a message written for the learner.


class LearnerError(Exception):
    """The learner's function raised an exception (it ran, and failed). ``changed``
    holds the arguments it had modified when it raised (by key, as they were then)."""

    def __init__(self, message: str, exc_type: str = "",
                 changed: Optional[Dict[Any, Any]] = None) -> None:
        super().__init__(message)
        self.message = message
        self.exc_type = exc_type
        self.changed = changed or {}


class LearnerAbort(BaseException):
    """A problem that ends the test at once.

    A BaseException on purpose: hypothesis would otherwise try to shrink a
    timeout or a missing function over dozens of examples.
    """

    status = "failed"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotStarted(LearnerAbort):
    """The function still raises NotImplementedError, or its module is missing."""

    status = "not started"

    def __init__(self, message: str, function: str = "") -> None:
        super().__init__(message)
        self.function = function  # the function to write ("" when the module is missing)


class LearnerTimeout(LearnerAbort):
    """A call ran past its time limit and its worker was stopped."""


class LearnerCrash(LearnerAbort):
    """The worker process ended while running learner code."""


class ImportFailed(LearnerAbort):
    """The learner's module could not be imported: none of its functions can run."""


class IsolationFailed(LearnerAbort):
    """The jail that isolation promised could not be built for this worker."""

    # Not the learner's failure: the Gradescope autograder reports a failed grader
    # rather than score a run that has one.
    status = "grader error"


class BadReturn(LearnerAbort):
    """The function returned something that is not a plain value or array."""


# --------------------------------------------------------------------------
# The protocol. Every message is one of these; on the wire it is the tuple
# (kind, *fields), pickled. The worker answers
# each Call with exactly one of Return, Raise, Missing or Unsendable, after any
# number of Callback / CallbackReturn / CallbackRaise exchanges; each Each with
# EachResults and each Chain with ChainResults (or Missing, or Unsendable).

Printed = Tuple[str, int]  # what learner code printed: the text kept, characters cut


class Ready(NamedTuple):
    """worker -> judge, once: the learner's module is imported."""


class NotImported(NamedTuple):
    """worker -> judge, once, instead of Ready; the worker then exits."""

    traceback: str
    printed: Printed


class NotJailed(NamedTuple):
    """worker -> judge, once, instead of Ready: the OS jail could not be built; the
    worker exits without importing anything of the learner's."""

    reason: str


class Call(NamedTuple):
    """judge -> worker: call ``function(*args, **kwargs)``. The arguments at the keys
    (positions or keywords) in ``callbacks`` are the judge's functions, those in
    ``probes`` are :class:`~gradkata.probes.Probe` s, as (name, params, record);
    both are sent as None in ``args`` and ``kwargs``."""

    function: str
    args: tuple
    kwargs: Dict[str, Any]
    callbacks: Tuple[Any, ...]
    probes: Dict[Any, Tuple[str, Dict[str, Any], bool]]


class Callback(NamedTuple):
    """worker -> judge, during a Call: learner code called the judge's function at ``key``."""

    key: Any
    args: tuple
    kwargs: Dict[str, Any]


class CallbackReturn(NamedTuple):
    """judge -> worker: what the judge's function returned."""

    value: Any


class CallbackRaise(NamedTuple):
    """judge -> worker: the judge's function raised (the judge raises it again after the call)."""

    error: str


class Return(NamedTuple):
    """worker -> judge: the call returned ``value``; ``changed`` holds the arguments it
    modified (by key, as they were afterwards), ``records`` the points each recording
    probe was called at (by key), ``shared`` the (part, key) pairs where a part of the
    value (None: the value itself; i: its item i) is, or shares memory with, the
    argument at key or one of that argument's items (see :func:`_shared`)."""

    value: Any
    changed: Dict[Any, Any]
    records: Dict[Any, List[Any]]
    shared: List[Tuple[Any, Any]]
    printed: Printed


class Raise(NamedTuple):
    """worker -> judge: the call raised ``exc_type``; ``text`` is the traceback through
    the learner's own files; ``changed`` the arguments modified by then (as in Return;
    always empty when an Each or a Chain stopped on a raise)."""

    exc_type: str
    not_implemented: bool
    text: str
    changed: Dict[Any, Any]
    printed: Printed


class Missing(NamedTuple):
    """worker -> judge: the module has no function of that name."""

    function: str


class Unsendable(NamedTuple):
    """worker -> judge: the return value cannot be pickled (``what`` says why)."""

    what: str
    printed: Printed


class Each(NamedTuple):
    """judge -> worker: call ``function(*args)`` for each ``(args, probes)`` of ``calls``
    (probes as in Call; none record), in one round trip, until one raises."""

    function: str
    calls: List[Tuple[tuple, Dict[int, Tuple[str, Dict[str, Any], bool]]]]


class EachResults(NamedTuple):
    """worker -> judge: (value, changed) for each call made, and why it stopped early:
    None, or ("raise", index, (exc_type, not_implemented, text))."""

    results: List[Tuple[Any, Dict[Any, Any]]]
    stopped: Optional[Tuple[str, int, Any]]
    printed: Printed


class Chain(NamedTuple):
    """judge -> worker: call ``function`` up to ``steps`` times, each call's arguments
    made from the last one's result by the rules of ``feed`` (see :func:`feed_arguments`),
    in one round trip."""

    function: str
    args: tuple
    kwargs: Dict[str, Any]
    feed: List[Tuple[int, tuple]]
    steps: int


class ChainResults(NamedTuple):
    """worker -> judge: what each call returned, and why it stopped early: None, or
    ("raise", step, (exc_type, not_implemented, text)), ("changed", step, changed
    arguments) or ("feed", step, why the result cannot be fed on)."""

    results: List[Any]
    stopped: Optional[Tuple[str, int, Any]]
    printed: Printed


class Stop(NamedTuple):
    """judge -> worker, between calls: exit."""


_FROM_WORKER: Dict[str, Type[Any]] = {m.__name__: m for m in (
    Ready, NotImported, NotJailed, Callback, Return, Raise, Missing, Unsendable, EachResults,
    ChainResults)}
_FROM_JUDGE: Dict[str, Type[Any]] = {
    m.__name__: m for m in (Call, Each, Chain, CallbackReturn, CallbackRaise, Stop)}
_PROTOCOL = pickle.HIGHEST_PROTOCOL


def _send(conn: Any, message: Any) -> None:
    """Send a message (raises what pickle raises for a value that cannot be sent)."""
    conn.send_bytes(pickle.dumps((type(message).__name__, *message), protocol=_PROTOCOL))


def _decode(data: Tuple[Any, ...], kinds: Dict[str, Type[Any]]) -> Any:
    """The message a received tuple stands for; ValueError if it is none of ``kinds``."""
    if type(data) is not tuple or not data or data[0] not in kinds:
        raise ValueError("a message of no known kind")
    kind = kinds[data[0]]
    if len(data) - 1 != len(kind._fields):
        raise ValueError(f"a {data[0]} message of the wrong length")
    return kind(*data[1:])


# --------------------------------------------------------------------------
# Safe unpickling of what the worker sends back.

_ALLOWED_GLOBALS = {
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
    ("builtins", "complex"),
    ("builtins", "set"),
    ("builtins", "frozenset"),
}


class _SafeUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name}")


def safe_loads(data: bytes) -> Any:
    """Unpickle plain values, numpy arrays and numpy scalars, and nothing else."""
    return _SafeUnpickler(io.BytesIO(data)).load()


# --------------------------------------------------------------------------
# The worker side.


class _CappedText(io.TextIOBase):
    """sys.stdout and sys.stderr in a worker: keeps the first OUTPUT_LIMIT characters."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts: List[str] = []
        self.kept = 0
        self.dropped = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:  # type: ignore[override]
        text = str(text)
        room = self.limit - self.kept
        if room > 0:
            self.parts.append(text[:room])
            self.kept += min(room, len(text))
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def take(self) -> Tuple[str, int]:
        text, dropped = "".join(self.parts), self.dropped
        self.parts, self.kept, self.dropped = [], 0, 0
        return text, dropped


class _BlockForbidden:
    """A meta path finder that refuses the reference and the grader."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        top = name.split(".")[0]
        if top in _FORBIDDEN:
            raise ImportError(
                f"'{name}' cannot be imported by exercise code: write the function yourself"
            )
        return None


def _limit_resources(memory_headroom: int) -> None:
    """An address-space limit (Linux), and Ctrl-C left to the judge."""
    # Ctrl-C in the terminal reaches every process in the group: the judge
    # handles it and stops this worker.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if resource is None:
        return
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[0])
        limit = pages * os.sysconf("SC_PAGE_SIZE") + memory_headroom
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (OSError, ValueError):
        pass  # no /proc: no address-space limit, the time limit still holds


def _fence() -> None:
    """Cut the worker off from the judge: another user when grading as root,
    no importing the reference or the grader, no terminal."""
    user = os.environ.get("GRADKATA_SANDBOX_USER")
    if user and hasattr(os, "getuid") and os.getuid() == 0:
        # Grading as root (Gradescope): learner code runs as an unprivileged user,
        # so it cannot read what root keeps to itself (the reference, the results).
        import pwd

        entry = pwd.getpwnam(user)
        os.setgroups([])
        os.setgid(entry.pw_gid)
        os.setuid(entry.pw_uid)
        # Changing uid made the process undumpable, which leaves its /proc/self
        # files root's: the jail could not write its user namespace's uid map
        # there. Dumpable again, the worker's /proc files are the user's own.
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_DUMPABLE, 1, 0, 0, 0)
    for name in list(sys.modules):
        if name.split(".")[0] in _FORBIDDEN:
            del sys.modules[name]
    sys.meta_path.insert(0, _BlockForbidden())  # type: ignore[arg-type]
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)  # raw writes to fd 1 and 2 vanish; print() is captured
    sys.stdin = open(os.devnull)  # noqa: SIM115 - input() sees end of file, never waits


def _learner_traceback(exc: BaseException, folder: str) -> str:
    """The traceback, keeping only the frames in the learner's own files."""
    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if os.path.abspath(f.filename).startswith(folder)
    ]
    lines = traceback.format_list(frames)
    lines += traceback.format_exception_only(type(exc), exc)
    return "".join(lines).rstrip()


def _import_module(folder: str, module: str) -> Any:
    path = os.path.join(folder, module + ".py")
    sys.path.insert(0, folder)  # so a learner module can import its siblings
    spec = importlib.util.spec_from_file_location(module, path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[module] = mod
    spec.loader.exec_module(mod)
    return mod


def _receive_in_worker(conn: Any) -> Any:
    return _decode(pickle.loads(conn.recv_bytes()), _FROM_JUDGE)


def _callback(conn: Any, key: Any) -> Callable[..., Any]:
    """A function that calls the judge's function at ``key`` through the pipe."""
    def call_judge(*args: Any, **kwargs: Any) -> Any:
        _send(conn, Callback(key, args, kwargs))
        reply = _receive_in_worker(conn)
        if isinstance(reply, CallbackReturn):
            return reply.value
        raise RuntimeError(reply.error)

    return call_judge


def _with_functions(conn: Any, args: Any, kwargs: Dict[str, Any], callbacks: Tuple[Any, ...],
                    probe_specs: Dict[Any, Tuple[str, Dict[str, Any], bool]]
                    ) -> Tuple[List[Any], Dict[str, Any], Dict[Any, Probe]]:
    """The arguments as learner code sees them: the judge's functions as callbacks,
    probes as functions of gradkata.probes. Also the recording probes, by key."""
    args, kwargs = list(args), dict(kwargs)
    recording: Dict[Any, Probe] = {}
    functions: Dict[Any, Callable[..., Any]] = {key: _callback(conn, key) for key in callbacks}
    for key, (name, params, record) in probe_specs.items():
        functions[key] = probe = Probe(name, record, **params)
        if record:
            recording[key] = probe
    for key, function in functions.items():
        if isinstance(key, int):
            args[key] = function
        else:
            kwargs[key] = function
    return args, kwargs, recording


def _snapshot(value: Any) -> Any:
    """A copy of a result that later calls cannot change (the value itself if it
    cannot be copied: sending it fails then)."""
    try:
        return copy.deepcopy(value)
    except Exception:  # noqa: BLE001 - a learner's object may refuse anything
        return value


def _raise_info(exc: BaseException, folder: str) -> Tuple[str, bool, str]:
    """(exc_type, not_implemented, text), as a Raise message carries them."""
    return (type(exc).__name__, isinstance(exc, NotImplementedError),
            _learner_traceback(exc, folder))


def _run(conn: Any, func: Callable[..., Any], call: Call, folder: str, out: _CappedText) -> Any:
    """Make one call; the message that answers it."""
    args, kwargs, recording = _with_functions(conn, call.args, call.kwargs, call.callbacks,
                                              call.probes)
    before = _fingerprints(args, kwargs)
    try:
        result = func(*args, **kwargs)
    except BaseException as exc:  # noqa: BLE001 - report, whatever it is
        changed = _changes(args, kwargs, before, _fingerprints(args, kwargs))
        return Raise(*_raise_info(exc, folder), changed, out.take())
    changed = _changes(args, kwargs, before, _fingerprints(args, kwargs))
    records = {key: probe.points for key, probe in recording.items()}
    return Return(result, changed, records, _shared(result, args, kwargs), out.take())


def _shared(result: Any, args: Any, kwargs: Dict[str, Any]) -> List[Tuple[Any, Any]]:
    """(part, key) for each part of ``result`` (None: the result itself; i: its item i,
    for a list or tuple) that is the argument at ``key`` or one of its items (a list,
    an array or a dict: numbers and strings are shared harmlessly), or an array that
    shares memory with one. A caller who changes such a result changes its own input."""
    parts: List[Tuple[Any, Any]] = [(None, result)]
    if isinstance(result, (list, tuple)):
        parts += list(enumerate(result))
    found = []
    for part, value in parts:
        if not isinstance(value, (np.ndarray, list, dict)):
            continue
        for key, arg in _arguments(args, kwargs):
            inside = list(arg) if isinstance(arg, (list, tuple)) else []
            if any(value is a or (isinstance(value, np.ndarray) and isinstance(a, np.ndarray)
                                  and np.may_share_memory(value, a))
                   for a in [arg, *inside]):
                found.append((part, key))
    return found


def _each(func: Callable[..., Any], each: Each, folder: str, out: _CappedText) -> EachResults:
    """Make the calls of ``each`` in turn, until one raises."""
    results: List[Any] = []
    for index, (call_args, probe_specs) in enumerate(each.calls):
        args, _, _ = _with_functions(None, call_args, {}, (), probe_specs)
        before = _fingerprints(args, {})
        try:
            result = func(*args)
        except BaseException as exc:  # noqa: BLE001 - report, whatever it is
            return EachResults(results, ("raise", index, _raise_info(exc, folder)), out.take())
        changed = _changes(args, {}, before, _fingerprints(args, {}))
        results.append(_snapshot((result, changed)))
    return EachResults(results, None, out.take())


def _chain(func: Callable[..., Any], chain: Chain, folder: str, out: _CappedText
           ) -> ChainResults:
    """Call ``func`` up to ``chain.steps`` times, each call's arguments made from the
    last one's result, until a call raises, changes an argument, or returns something
    the feed rules cannot use."""
    results: List[Any] = []
    args, kwargs, feed = chain.args, chain.kwargs, chain.feed
    fed = {position for position, _ in feed}
    before = _fingerprints(args, kwargs)
    for step in range(chain.steps):
        try:
            result = func(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - report, whatever it is
            return ChainResults(results, ("raise", step, _raise_info(exc, folder)), out.take())
        after = _fingerprints(args, kwargs)
        results.append(_snapshot(result))
        changed = _changes(args, kwargs, before, after)
        if changed:
            return ChainResults(results, ("changed", step, changed), out.take())
        if step + 1 < chain.steps:
            try:
                args = feed_arguments(feed, args, _snapshot(result))
            except Exception as exc:  # noqa: BLE001
                return ChainResults(results, ("feed", step, f"{type(exc).__name__}: {exc}"),
                                    out.take())
            # Only the arguments made from the result are new.
            before = [_fingerprint(args[key]) if key in fed else print_after
                      for (key, _), print_after in zip(_arguments(args, kwargs), after)]
    return ChainResults(results, None, out.take())


def _answer(conn: Any, mod: Any, message: Any, folder: str, out: _CappedText) -> Any:
    """The message that answers a Call, an Each or a Chain."""
    func = getattr(mod, message.function, None)
    if not callable(func):
        return Missing(message.function)
    if isinstance(message, Each):
        return _each(func, message, folder, out)
    if isinstance(message, Chain):
        return _chain(func, message, folder, out)
    return _run(conn, func, message, folder, out)


def _measured_folders() -> List[str]:
    """Where a coverage tool measuring this worker saves its data (the kata's own
    measurements): the jail shows that folder writable, nothing else."""
    coverage = sys.modules.get("coverage")
    current = getattr(getattr(coverage, "Coverage", None), "current", None)
    measuring = current() if current is not None else None
    if measuring is None:
        return []
    return [os.path.dirname(os.path.abspath(measuring.config.data_file))]


def _close_all_but(keep: int) -> None:
    """Close every file descriptor but the standard three and ``keep``."""
    try:
        open_fds = [int(fd) for fd in os.listdir("/proc/self/fd")]
    except OSError:  # no /proc (not Linux): the usual range
        open_fds = list(range(3, 256))
    for fd in open_fds:
        if fd > 2 and fd != keep:
            try:
                os.close(fd)
            except OSError:
                pass  # the listing's own descriptor, already closed


def _worker_main(conn: Any, folder: str, module: str, memory_headroom: int,
                 jailed: bool = False, cpus: Sequence[int] = ()) -> None:
    """The worker: import the learner's module, then answer calls until Stop.

    It runs on the CPUs its judge runs on (``cpus``): every call is a synchronous
    exchange, and a judge and a worker on different CPUs each woke the other across
    them (class grading gives each judge one CPU: :func:`gradkata.classgrade.run_judges`)."""
    runner.run_on(cpus)
    # Nothing inherited from the fork server (its alive pipe, the resource tracker's
    # pipe, ...) reaches learner code: only the pipe to the judge stays open.
    _close_all_but(conn.fileno())
    _limit_resources(memory_headroom)
    _fence()
    # The OS jail: after the limits and before anything of the learner's is read.
    # Like everything the worker uses, gradkata.jail is imported at the top of
    # this module: once jailed, the worker cannot see the kata's folder.
    if jailed:
        try:
            jail.enter(folder, _measured_folders())
        except jail.JailError as exc:
            _send(conn, NotJailed(str(exc)))
            return
    out = _CappedText(OUTPUT_LIMIT)
    sys.stdout = sys.stderr = out  # type: ignore[assignment]
    try:
        mod = _import_module(folder, module)
    except BaseException as exc:  # noqa: BLE001 - a learner's module may raise anything
        _send(conn, NotImported(_learner_traceback(exc, folder), out.take()))
        return
    _send(conn, Ready())
    while True:
        try:
            message = _receive_in_worker(conn)
        except (EOFError, OSError):
            return  # the judge is gone
        if isinstance(message, Stop):
            return
        reply = _answer(conn, mod, message, folder, out)
        try:
            _send(conn, reply)
        except (EOFError, OSError):
            return
        except Exception as exc:  # noqa: BLE001 - the learner's value cannot be pickled
            what = reply.value if isinstance(reply, Return) else reply.results[-1]
            _send(conn, Unsendable(f"{type(what).__name__}: {exc}", reply.printed))


def _changes(args: Any, kwargs: Dict[str, Any], before: List[Any],
             after: List[Any]) -> Dict[Any, Any]:
    """The arguments whose fingerprint changed, by position or keyword."""
    return {key: value for (key, value), old, new in zip(_arguments(args, kwargs), before, after)
            if not callable(value) and old != new}


def _fingerprints(args: Any, kwargs: Dict[str, Any]) -> List[Any]:
    return [_fingerprint(value) for _, value in _arguments(args, kwargs)]


def _opening(doing: Any) -> str:
    """What is being done ("running m.f(...)"), to open a sentence with."""
    text = str(doing)
    return text[:1].upper() + text[1:]


def _arguments(args: Any, kwargs: Dict[str, Any]) -> List[Tuple[Any, Any]]:
    return list(enumerate(args)) + list(kwargs.items())


def _fingerprint(value: Any) -> Any:
    """Something equal before and after a call exactly when ``value`` was not changed."""
    if callable(value):
        return None
    try:
        if isinstance(value, np.ndarray) and value.dtype != object:
            return (value.shape, value.dtype.str, value.tobytes())
        if isinstance(value, (list, tuple)) and any(isinstance(v, np.ndarray) for v in value):
            return (type(value).__name__, tuple(_fingerprint(v) for v in value))
        # Numbers and nested lists of them: pickle's bytes (nan equals nan there).
        return pickle.dumps(value, protocol=4)
    except Exception:  # noqa: BLE001 - an argument we cannot compare is not checked
        return None


def _spec(probe: Probe) -> Tuple[str, Dict[str, Any], bool]:
    """A probe as a Call carries it: (name, params, record)."""
    return probe.name, probe.params, probe.record


# --------------------------------------------------------------------------
# Feeding a step function its own output (used on both sides: the worker runs
# the chain, the judge replays it to name each call in messages).


def single_number(value: Any) -> float:
    """A number, or a one-element numeric array, as a float; TypeError otherwise."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"a {type(value).__name__} is not a number here")
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    if isinstance(value, np.ndarray) and value.dtype.kind in "iuf" and value.size == 1:
        return float(value.reshape(-1)[0])
    raise TypeError(f"expected a single number, got a {type(value).__name__}")


def feed_arguments(feed: Any, args: Any, result: Any) -> tuple:
    """The next call's positional arguments: ``args`` with the positions named in
    ``feed`` replaced, each by one of
      ("copy", j)          result[j] (j None: the whole result)
      ("number", j)        result[j] as a float (a number or a one-element array)
      ("affine", i, j, k)  args[i] @ result[j] + result[k] (a prediction x @ w + b)
    """
    new = list(args)
    for position, rule in feed:
        kind = rule[0]
        if kind == "copy":
            new[position] = result if rule[1] is None else result[rule[1]]
        elif kind == "number":
            new[position] = single_number(result[rule[1]])
        elif kind == "affine":
            new[position] = np.asarray(args[rule[1]]) @ result[rule[2]] + result[rule[3]]
        else:
            raise ValueError(f"unknown feed rule {rule!r}")
    return tuple(new)


# --------------------------------------------------------------------------
# The judge side.

_context: Any = None


def _mp_context() -> Any:
    """A clean way to start workers: a fork server that has imported numpy, this
    module and gradkata.probes (and nothing of the judge's) where there is one.
    Its preload list is set again each time: multiprocessing keeps one list for
    its one fork server, and a process that also starts judges sets another."""
    global _context
    if _context is None:
        methods = multiprocessing.get_all_start_methods()
        _context = multiprocessing.get_context("forkserver" if "forkserver" in methods
                                               else "spawn")
    if _context.get_start_method() == "forkserver":
        _context.set_forkserver_preload(["numpy", "gradkata.probes", "gradkata.sandbox"])
    return _context


_test_deadline: Optional[float] = None
_test_seconds: float = DEFAULT_CALL_SECONDS


def set_deadline(deadline: Optional[float], seconds: float = DEFAULT_CALL_SECONDS) -> None:
    """Set the monotonic time by which learner calls must finish (None: the default),
    and the limit it comes from, for messages."""
    global _test_deadline, _test_seconds
    _test_deadline, _test_seconds = deadline, seconds


def _deadline() -> float:
    if _test_deadline is not None:
        return _test_deadline
    return time.monotonic() + DEFAULT_CALL_SECONDS


_stopping: List[Any] = []  # workers told to stop (or killed), not yet waited for


def _kill(proc: Any) -> None:
    """Kill a worker and everything it started. A jailed worker is two processes
    (:mod:`gradkata.jail`): the one the judge started, and below it the learner's
    code, its PID namespace's init. The init is killed first: it is meant to die
    with its parent, but learner code can undo that (prctl), and then only a
    signal from outside ends it, and with it the namespace."""
    runner.kill_tree(proc.pid)


def reap(seconds: float = 2.0) -> None:
    """Wait for the workers that were stopped, killing any still running after ``seconds``."""
    end = time.monotonic() + seconds
    while _stopping:
        proc = _stopping.pop()
        proc.join(max(0.0, end - time.monotonic()))
        if proc.is_alive():
            _kill(proc)
            proc.join(1)


class Sandbox:
    """One learner module, imported in a worker process that is restarted when it dies."""

    def __init__(self, folder: str, module: str) -> None:
        self.folder = os.path.abspath(folder)
        self.module = module
        self.path = os.path.join(self.folder, module + ".py")
        self._proc: Any = None
        self._conn: Any = None
        self._ready = False  # has the worker imported the module?
        self._import_problem: Optional[LearnerAbort] = None
        self._timed_out: Dict[str, str] = {}
        self.output: List[str] = []  # what the learner's code printed, call by call
        self.shared: List[Tuple[Any, Any]] = []  # the last Return's ``shared``

    # -- life cycle --------------------------------------------------------

    def launch(self) -> None:
        """Start the worker without waiting for it: it imports the learner's module
        while the judge goes on (collecting tests, starting other workers); the
        first call waits for its Ready."""
        if self._proc is not None or self._import_problem is not None:
            return
        if not os.path.exists(self.path):
            return  # the first call says so
        ctx = _mp_context()
        parent, child = ctx.Pipe()
        proc = ctx.Process(
            target=_worker_main,
            args=(child, self.folder, self.module, MEMORY_HEADROOM, jail.status().jailed,
                  runner.own_cpus()),
            daemon=True,
        )
        # multiprocessing runs the judge's __main__ (pytest's or gradkata's
        # script) again in every worker, importing pytest there, unless there
        # seems to be none: it is hidden for the start, which is synchronous.
        main = sys.modules["__main__"]
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            proc.start()
        finally:
            sys.modules["__main__"] = main
        child.close()
        self._proc, self._conn = proc, parent
        self._ready = False

    def _start(self) -> None:
        if not os.path.exists(self.path):
            raise NotStarted(f"there is no {self.module}.py in {self.folder}: not started")
        if self._import_problem is not None:
            # Once a module fails to import it is not retried; a fresh exception
            # each time, so tracebacks do not pile up on one object.
            raise type(self._import_problem)(self._import_problem.message)
        self.launch()
        seconds = max(0.1, min(IMPORT_SECONDS, _deadline() - time.monotonic()))
        doing = f"importing {self.module}.py"
        try:
            if not self._conn.poll(seconds):
                self.close()
                raise LearnerTimeout(
                    f"{_opening(doing)} did not finish within {seconds:.3g} s: is there a loop "
                    "that never ends at the top level of the file?"
                )
            message = self._receive(doing)
        except LearnerAbort as exc:
            self._import_problem = exc
            raise
        if isinstance(message, NotJailed):
            self.close()
            self._import_problem = IsolationFailed(
                f"gradkata could not isolate {self.module}.py here ({message.reason}), so it "
                "was not run. This is not a fault of the code: tell whoever runs the grading.")
            raise self._import_problem
        if isinstance(message, NotImported):
            self._keep_output(message.printed)
            self.close()
            self._import_problem = ImportFailed(
                f"{self.module}.py could not be imported, so none of its functions "
                f"can be graded:\n{message.traceback}"
            )
            raise self._import_problem
        if not isinstance(message, Ready):
            self.close()
            self._import_problem = BadReturn(f"{_opening(doing)} sent a {type(message).__name__} "
                                             "message instead of saying it was ready")
            raise self._import_problem
        self._ready = True

    def close(self, graceful: bool = False) -> None:
        """Stop the worker: ask an idle one to exit (so tools such as coverage can
        save their data), kill one that is busy or does not answer. Neither waits:
        :func:`reap` collects the processes."""
        if self._proc is not None:
            proc = self._proc
            try:
                stopped = False
                if graceful and self._ready:
                    try:
                        _send(self._conn, Stop())
                        stopped = True
                    except OSError:
                        pass
                if not stopped:
                    _kill(proc)
                _stopping.append(proc)
            finally:
                self._conn.close()
                self._proc, self._conn = None, None
                self._ready = False

    def _receive(self, doing: Any) -> Any:
        try:
            data = self._conn.recv_bytes()
        except (EOFError, OSError):
            raise self._crashed(doing) from None
        try:
            return _decode(safe_loads(data), _FROM_WORKER)
        except ValueError as exc:
            # Not a message a worker sends: something in the worker wrote to the pipe.
            self.close()
            raise BadReturn(f"{_opening(doing)} sent the judge {exc}") from None
        except Exception as exc:  # noqa: BLE001
            # What came back holds something other than numbers and arrays: an object
            # of the learner's own class, say. The conversation is lost with it.
            self.close()
            raise BadReturn(
                f"{_opening(doing)} sent back a {exc} object; return plain numpy arrays, floats, "
                "or tuples and lists of them"
            ) from None

    def _crashed(self, doing: str) -> LearnerCrash:
        proc = self._proc
        proc.join(2)
        code = proc.exitcode
        self.close()
        if code == 0:
            why = "your code ended the Python process (os._exit or similar)"
        elif code is not None and code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            why = f"the process running your code was killed by {name}"
            if name == "SIGSEGV":
                why += " (a crash: very deep recursion?)"
            elif name == "SIGKILL":
                why += " (out of memory?)"
        else:
            why = f"your code ended the Python process with exit status {code}"
        return LearnerCrash(f"{why} while {doing}")

    def _keep_output(self, captured: Tuple[str, int]) -> None:
        text, dropped = captured
        if text:
            if dropped:
                text += f"\n... ({dropped} more characters cut)"
            self.output.append(text)

    # -- calls ---------------------------------------------------------------

    def call(self, name: str, args: tuple, kwargs: Dict[str, Any], doing: Any) -> Any:
        """Call ``name(*args, **kwargs)`` in the worker; return (result, changed args).
        Afterwards :attr:`shared` is what the Return message said of the result's
        parts that are (or share memory with) arguments.

        ``doing`` names the call in messages ("running single_neuron.y_hat(...)"); it
        may be any object whose ``str`` does, rendered only when a message needs it.
        """
        sent_args, sent_kwargs = list(args), dict(kwargs)
        callbacks: Dict[Any, Callable[..., Any]] = {}
        sent_probes: Dict[Any, Probe] = {}
        for key, value in _arguments(args, kwargs):
            if isinstance(value, Probe):
                sent_probes[key] = value
            elif callable(value):
                callbacks[key] = value
            else:
                continue
            if isinstance(key, int):
                sent_args[key] = None
            else:
                sent_kwargs[key] = None
        request = Call(name, tuple(sent_args), sent_kwargs, tuple(callbacks),
                       {key: _spec(p) for key, p in sent_probes.items()})
        message = self._converse(request, callbacks, doing)
        if isinstance(message, Return):
            for key, points in message.records.items():
                if key in sent_probes:
                    sent_probes[key].points.extend(points)
            self.shared = message.shared
            return message.value, message.changed
        raise self._failure(name, message, doing)

    def chain(self, name: str, args: tuple, kwargs: Dict[str, Any], feed: Any, steps: int,
              doing: Any) -> Tuple[List[Any], Any]:
        """Call ``name`` ``steps`` times in the worker, each time on the arguments that
        ``feed`` makes of the last result (see :func:`feed_arguments`), in one round
        trip. Returns (the results, why it stopped early or None); a raise is told
        as ("raise", step, a Raise message)."""
        message = self._converse(Chain(name, args, kwargs, feed, steps), {}, doing)
        if isinstance(message, ChainResults):
            return message.results, self._stopped(message)
        raise self._failure(name, message, doing)

    def each(self, name: str, calls: List[tuple], doing: Any) -> Tuple[List[Any], Any]:
        """Call ``name(*args)`` in the worker for each ``args`` of ``calls``, in one round
        trip. Returns ((result, changed arguments) for each call made, why it stopped
        early or None, as :meth:`chain` tells it). The arguments may hold probes that
        record nothing, not the judge's functions."""
        packed = []
        for args in calls:
            specs = {}
            sent = list(args)
            for index, value in enumerate(sent):
                if isinstance(value, Probe) and not value.record:
                    specs[index], sent[index] = _spec(value), None
                elif callable(value):
                    raise TypeError("each() passes probes that record nothing, not functions: "
                                    f"use call() for {value!r}")
            packed.append((tuple(sent), specs))
        message = self._converse(Each(name, packed), {}, doing)
        if isinstance(message, EachResults):
            return message.results, self._stopped(message)
        raise self._failure(name, message, doing)

    def _stopped(self, message: Any) -> Any:
        if message.stopped is not None and message.stopped[0] == "raise":
            kind, step, (exc_type, not_implemented, text) = message.stopped
            return kind, step, Raise(exc_type, not_implemented, text, {}, message.printed)
        return message.stopped

    def _failure(self, name: str, message: Any, doing: Any) -> BaseException:
        if isinstance(message, Raise):
            return self.raised(name, message, doing)
        if isinstance(message, Unsendable):
            return BadReturn(f"{_opening(doing)} returned something that cannot be sent back "
                             f"({message.what}); return numpy arrays, floats or tuples of them")
        self.close()
        return BadReturn(f"{_opening(doing)} answered with a {type(message).__name__} message")

    def _converse(self, request: Any, callbacks: Dict[Any, Callable[..., Any]],
                  doing: Any) -> Any:
        """Send a call, answer the worker's callbacks, and return the message that ends it."""
        name = request.function
        if name in self._timed_out:
            raise LearnerTimeout(
                f"{self.module}.{name} did not finish in an earlier test "
                f"({self._timed_out[name]}), so it is not run again"
            )
        if not self._ready:
            self._start()
        deadline = _deadline()
        judge_error: Optional[BaseException] = None
        try:
            _send(self._conn, request)
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._conn.poll(remaining):
                    limit = self._limit_text()
                    self._timed_out[name] = limit
                    self.close()
                    raise LearnerTimeout(
                        f"{_opening(doing)} was still running after {limit} and was stopped. "
                        "Is there a loop that never ends (a while whose condition never "
                        "changes, or a counter that never moves)?"
                    )
                message = self._receive(doing)
                if not isinstance(message, Callback):
                    break
                reply: Any
                try:
                    reply = CallbackReturn(callbacks[message.key](*message.args,
                                                                  **message.kwargs))
                except Exception as exc:  # noqa: BLE001 - re-raised below, in the judge
                    judge_error = judge_error or exc
                    reply = CallbackRaise(f"{type(exc).__name__}: {exc}")
                _send(self._conn, reply)
        except BaseException:
            # Ctrl-C, a timeout or any judge-side failure mid-call: the worker's
            # side of the conversation is lost, so it is stopped (and restarted
            # by the next call).
            self.close()
            raise
        if isinstance(message, Missing):
            raise NotStarted(
                f"{self.module}.py has no function {name}: put back its definition "
                f"(`gradkata reset {self.module}` restores the original file)", name
            )
        if not isinstance(message, (Return, Raise, Unsendable, EachResults, ChainResults)):
            self.close()
            raise BadReturn(f"{_opening(doing)} answered with a {type(message).__name__} "
                            "message")
        self._keep_output(message.printed)
        if judge_error is not None:
            raise judge_error
        return message

    def raised(self, name: str, info: Raise, doing: Any) -> LearnerAbort | LearnerError:
        """What the judge raises when the learner's function raised."""
        if info.not_implemented:
            return NotStarted(f"{self.module}.{name} is not written yet (it raises "
                              "NotImplementedError): not started", name)
        return LearnerError(f"{_opening(doing)} raised {info.exc_type}:\n{info.text}",
                            info.exc_type, info.changed)

    def _limit_text(self) -> str:
        seconds = _test_seconds if _test_deadline is not None else DEFAULT_CALL_SECONDS
        return f"{seconds:g} s"

    def take_output(self) -> str:
        """What the learner's code printed since the last take, cut to a few KB."""
        text = "\n".join(self.output)
        self.output = []
        return cut(text)
