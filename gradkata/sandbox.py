"""Run a learner's module in a child process and call its functions from the judge.

The judge (the pytest process that holds the expected values, the comparisons
and the score) never executes learner code. Each exercise module is imported
in its own worker process; a call sends the arguments down a pipe and reads
back the return value. So whatever the learner's code does (loop forever,
call ``os._exit(0)``, monkeypatch numpy or pytest, print megabytes, ask for
terabytes) happens in the worker and costs at most that call.

What comes back is unpickled with a whitelist (plain Python values and numpy
arrays and scalars), so a return value cannot run code in the judge. Callables
passed as arguments (``f`` in ``numerical_gradient(f, x)``) stay in the judge:
the worker calls back through the pipe.

This module imports only the standard library and numpy: it is also what the
worker process runs.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import pickle
import sys
import time
import traceback
import types
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np

from . import jail
from .output import OUTPUT_LIMIT, cut

MEMORY_HEADROOM = 2 * 1024**3  # bytes a worker may allocate beyond its start-up size
IMPORT_SECONDS = 10.0  # how long importing a learner module may take
DEFAULT_CALL_SECONDS = 10.0  # limit for a call made outside a timed test

_PR_SET_DUMPABLE = 4  # prctl(2)
_CALLBACK_MARK = "\x00gradkata-callback:"
_FORMULA = "\x00gradkata-formula"
# Modules a learner's code may not import: the reference, and the grader itself.
_FORBIDDEN = ("solutions", "gradkata", "_gradkata_reference", "tests", "conftest")


# --------------------------------------------------------------------------
# What the judge raises. Each carries a message written for the learner.


class LearnerError(Exception):
    """The learner's function raised an exception (it ran, and failed)."""

    def __init__(self, message: str, exc_type: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.exc_type = exc_type


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
# Arrays on the wire. Pickling a small array goes through its __reduce__, and
# reading it back through three global lookups: several times the cost of its
# bytes, paid for every argument of hundreds of calls in a row. Arrays and numpy
# scalars of plain dtypes travel instead as tagged tuples of dtype, shape and
# bytes, which pickle handles in C; anything else is pickled as it is (and, from
# a worker, refused by safe_loads unless it is a plain value).

_ARRAY = "\x00gradkata-array"
_SCALAR = "\x00gradkata-scalar"
_PLAIN_KINDS = frozenset("biufcSU")  # bool, integers, floats, complex, strings


def pack(value: Any) -> Any:
    """``value`` with every array and numpy scalar inside it (through tuples, lists
    and dict values) replaced by a tagged tuple that :func:`unpack` turns back."""
    kind = type(value)
    if kind is np.ndarray:
        if value.dtype.kind in _PLAIN_KINDS:
            return (_ARRAY, value.dtype.str, value.shape, value.tobytes())
        return value
    if kind is tuple:
        return tuple([pack(v) for v in value])
    if kind is list:
        return [pack(v) for v in value]
    if kind is dict:
        return {k: pack(v) for k, v in value.items()}
    if isinstance(value, np.generic) and value.dtype.kind in _PLAIN_KINDS:
        return (_SCALAR, value.dtype.str, value.tobytes())
    return value


def _plain_dtype(name: Any) -> Any:
    dtype = np.dtype(name)
    if dtype.kind not in _PLAIN_KINDS:
        raise pickle.UnpicklingError(f"numpy array of dtype {dtype}")
    return dtype


def unpack(value: Any) -> Any:
    """The inverse of :func:`pack`: fresh, writable arrays and numpy scalars."""
    kind = type(value)
    if kind is tuple:
        if value and type(value[0]) is str:
            if len(value) == 4 and value[0] == _ARRAY:
                data = np.frombuffer(value[3], dtype=_plain_dtype(value[1]))
                return data.reshape(value[2]).copy()
            if len(value) == 3 and value[0] == _SCALAR:
                data = np.frombuffer(value[2], dtype=_plain_dtype(value[1]))
                if data.size != 1:
                    raise pickle.UnpicklingError("a numpy scalar of the wrong size")
                return data[0]
        return tuple([unpack(v) for v in value])
    if kind is list:
        return [unpack(v) for v in value]
    if kind is dict:
        return {k: unpack(v) for k, v in value.items()}
    return value


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


def _harden(memory_headroom: int) -> None:
    """Limit what a worker can do to the machine, and cut it off from the judge."""
    import signal

    # Ctrl-C in the terminal reaches every process in the group: the judge
    # handles it and stops this worker.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        import resource

        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[0])
        size = pages * os.sysconf("SC_PAGE_SIZE")
        limit = size + memory_headroom
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, OSError, ValueError):
        pass  # not Linux: no address-space limit, the time limit still holds
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
        import ctypes

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
    import importlib.util

    path = os.path.join(folder, module + ".py")
    sys.path.insert(0, folder)  # so a learner module can import its siblings
    spec = importlib.util.spec_from_file_location(module, path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[module] = mod
    spec.loader.exec_module(mod)
    return mod


_PROTOCOL = pickle.HIGHEST_PROTOCOL


def _send(conn: Any, message: Any) -> None:
    conn.send_bytes(pickle.dumps(message, protocol=_PROTOCOL))


def _callback(conn: Any, index: int) -> Callable[..., Any]:
    def call_judge(*args: Any, **kwargs: Any) -> Any:
        _send(conn, ("callback", index, pack(args), pack(kwargs)))
        kind, value = pickle.loads(conn.recv_bytes())
        if kind == "ok":
            return unpack(value)
        raise RuntimeError(value)

    return call_judge


def _with_functions(conn: Any, values: Any, records: Optional[List[Any]] = None) -> Any:
    """The arguments as learner code sees them: a judge's function as a callback, a
    formula as a function evaluated here. A recording formula's list of the points
    it was called at is appended to ``records``, to be sent back."""
    out = []
    for v in values:
        if _is_mark(v):
            v = _callback(conn, int(v[len(_CALLBACK_MARK):]))
        elif type(v) is tuple and len(v) in (3, 4) and type(v[0]) is str and v[0] == _FORMULA:
            if len(v) == 4 and records is not None:
                v = Recording(v[1], **v[2])
                records.append(v.points)
            else:
                v = Formula(v[1], **v[2])
        out.append(v)
    return out


_NOTHING_PRINTED = ("", 0)


def _raised(exc: BaseException, folder: str) -> Dict[str, Any]:
    return {
        "type": type(exc).__name__,
        "not_implemented": isinstance(exc, NotImplementedError),
        "text": _learner_traceback(exc, folder),
    }


def _changes(args: Any, kwargs: Dict[str, Any], before: List[Any],
             after: List[Any]) -> Dict[Any, Any]:
    """The arguments whose fingerprint changed, by position or keyword."""
    return {key: value for (key, value), old, new in zip(_arguments(args, kwargs), before, after)
            if not callable(value) and old != new}


def _fingerprints(args: Any, kwargs: Dict[str, Any]) -> List[Any]:
    return [_fingerprint(value) for _, value in _arguments(args, kwargs)]


def _invoke(func: Callable[..., Any], args: Any, kwargs: Dict[str, Any], folder: str) -> Any:
    """Call the learner's function: ("return", result, changed arguments) or ("raise", info)."""
    before = _fingerprints(args, kwargs)
    try:
        result = func(*args, **kwargs)
    except BaseException as exc:  # noqa: BLE001 - report, whatever it is
        return ("raise", _raised(exc, folder))
    return ("return", result, _changes(args, kwargs, before, _fingerprints(args, kwargs)))


def _chain(func: Callable[..., Any], args: Any, kwargs: Dict[str, Any], feed: Any,
           steps: int, folder: str) -> Tuple[List[Any], Any]:
    """Call ``func`` up to ``steps`` times, each call's arguments made from the last
    one's result by ``feed`` (see :func:`feed_arguments`). Returns what each call
    returned (packed at once, so later calls cannot change it) and why it stopped
    early: None, or (kind, step, detail) for a raise, a changed argument, or a
    result that cannot be fed on."""
    results: List[Any] = []
    fed = {position for position, _ in feed}
    before = _fingerprints(args, kwargs)
    for step in range(steps):
        try:
            result = func(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - report, whatever it is
            return results, ("raise", step, _raised(exc, folder))
        after = _fingerprints(args, kwargs)
        results.append(pack(result))
        changed = _changes(args, kwargs, before, after)
        if changed:
            return results, ("changed", step, pack(changed))
        if step + 1 < steps:
            try:
                args = feed_arguments(feed, args, unpack(results[-1]))
            except Exception as exc:  # noqa: BLE001
                return results, ("feed", step, f"{type(exc).__name__}: {exc}")
            # Only the arguments made from the result are new.
            before = [_fingerprint(args[key]) if key in fed else print_after
                      for (key, _), print_after in zip(_arguments(args, kwargs), after)]
    return results, None


def _each(func: Callable[..., Any], calls: List[Any], formulas: bool, folder: str
          ) -> Tuple[List[Any], Any]:
    """Call ``func(*args)`` for each ``args`` of ``calls`` in turn. Returns, for each call
    made, what it returned and the arguments it changed (both packed), and why it
    stopped early: None, or ("raise", index, detail) as :func:`_chain` gives."""
    results: List[Any] = []
    for index, args in enumerate(calls):
        if formulas:
            args = _with_functions(None, args)
        before = _fingerprints(args, {})
        try:
            result = func(*args)
        except BaseException as exc:  # noqa: BLE001 - report, whatever it is
            return results, ("raise", index, _raised(exc, folder))
        changed = _changes(args, {}, before, _fingerprints(args, {}))
        results.append((pack(result), pack(changed)))
    return results, None


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
                 jailed: bool = False) -> None:
    # Nothing inherited from the fork server (its alive pipe, the resource tracker's
    # pipe, ...) reaches learner code: only the pipe to the judge stays open.
    _close_all_but(conn.fileno())
    _harden(memory_headroom)
    if jailed:
        try:
            jail.enter(folder, _measured_folders())
        except jail.JailError as exc:
            _send(conn, ("jail-error", str(exc)))
            return
    out = _CappedText(OUTPUT_LIMIT)
    sys.stdout = sys.stderr = out  # type: ignore[assignment]
    try:
        mod = _import_module(folder, module)
    except BaseException as exc:  # noqa: BLE001 - a learner's module may raise anything
        _send(conn, ("import-error", _learner_traceback(exc, folder), out.take()))
        return
    _send(conn, ("ready",))
    waiter = _Waiter(conn)
    while True:
        try:
            waiter.wait(None)
            message = pickle.loads(conn.recv_bytes())
        except (EOFError, OSError):
            return
        if message[0] == "stop":
            return
        op, name, args, kwargs, extra = message
        args, kwargs = unpack(args), unpack(kwargs)
        func = getattr(mod, name, None)
        if not callable(func):
            _send(conn, ("missing", name))
            continue
        if op == "chain":
            feed, steps = extra
            results, stop = _chain(func, args, kwargs, feed, steps, folder)
            reply: Tuple[Any, ...] = ("chain", results, stop)
        elif op == "each":
            results, stop = _each(func, args, extra, folder)
            reply = ("each", results, stop)
        else:
            records: List[Any] = []  # what each recording formula saw
            if extra:  # some arguments are functions
                args = _with_functions(conn, args, records)
                kwargs = dict(zip(kwargs, _with_functions(conn, kwargs.values(), records)))
            outcome = _invoke(func, args, kwargs, folder)
            if outcome[0] == "raise":
                _send(conn, (*outcome, out.take()))
                continue
            reply = ("return", pack(outcome[1]), pack(outcome[2]), pack(records))
        printed = out.take() if out.kept or out.dropped else _NOTHING_PRINTED
        try:
            data = pickle.dumps((*reply, printed), protocol=_PROTOCOL)
        except Exception as exc:  # noqa: BLE001
            what = reply[1][-1] if op in ("chain", "each") else reply[1]
            _send(conn, ("unpicklable", f"{type(what).__name__}: {exc}", printed))
            continue
        conn.send_bytes(data)


# --------------------------------------------------------------------------
# Functions the judge hands to learner code


class Formula:
    """A function of one argument ``z``, written as a numpy expression, e.g.
    ``Formula("float(np.sum(z**3))")`` or ``Formula("a @ z + b", a=a, b=b)``.

    Passed to learner code (``numerical_gradient(f, x)``), it is evaluated in the
    worker itself: no round trip to the judge per call, as a plain Python function
    would need. It suits functions whose calls the judge does not need to see;
    one that records its calls must stay a Python function (a callback). Messages
    show it as the lambda it stands for. Only the judge builds formulas: the
    worker never sends one back.
    """

    def __init__(self, expression: str, **params: Any) -> None:
        self.expression = expression
        self.params = params
        self.__name__ = f"(lambda z: {expression})"
        self._code = compile(expression, "<formula>", "eval")

    def __call__(self, z: Any) -> Any:
        return eval(self._code, {"np": np, "z": z, **self.params})  # noqa: S307 - the judge's text

    def __repr__(self) -> str:
        return self.__name__


class Recording(Formula):
    """A formula that keeps a copy of every point ``z`` it is called at, in ``points``.

    Passed to learner code, it is evaluated in the worker like any formula, and
    the points come back with the result: one round trip for the whole call, where
    a recording Python function would cost one per point.
    """

    def __init__(self, expression: str, **params: Any) -> None:
        super().__init__(expression, **params)
        self.points: List[Any] = []

    def __call__(self, z: Any) -> Any:
        point = np.array(z, copy=True)
        self.points.append(point)
        return super().__call__(point)


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


# Waking a sleeping process costs tens of microseconds, more in a virtual
# machine, and a graded test makes hundreds of calls in a row. With a core to
# spare, each side watches the pipe for a moment before it sleeps, but only
# while the other side has been answering within that moment: after a wait
# that ran longer (the other side computes, or the machine is busy) the next
# wait sleeps at once, so spinning never competes with the work it waits for.
def _spare_core() -> bool:
    try:
        cores = len(os.sched_getaffinity(0))  # type: ignore[attr-defined]
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return cores > 1 and not os.environ.get("GRADKATA_NO_SPIN")


SPIN_SECONDS = 0.001 if _spare_core() else 0.0


class _Waiter:
    """Waits for data on one end of a pipe: a brief spin, then sleep."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn
        self._spin = True  # did the last wait end within SPIN_SECONDS?
        try:
            import select

            self._poll: Any = select.poll()
            self._poll.register(conn.fileno(), select.POLLIN | select.POLLERR | select.POLLHUP)
        except (ImportError, AttributeError):  # no poll() (Windows): the pipe's own
            self._poll = None

    def _ready(self, seconds: Optional[float]) -> bool:
        if self._poll is None:
            return bool(self._conn.poll(seconds))
        if seconds is None:
            return bool(self._poll.poll(None))
        # poll() counts whole milliseconds: round a wait up, never a look (0) down to a wait.
        return bool(self._poll.poll(int(seconds * 1000) + 1 if seconds > 0 else 0))

    def wait(self, seconds: Optional[float]) -> bool:
        """True once data (or the end of the pipe) is there; False after ``seconds``."""
        window = SPIN_SECONDS
        if self._spin and window > 0:
            end = time.perf_counter() + min(window, seconds if seconds is not None else window)
            while True:
                if self._ready(0):
                    return True
                if time.perf_counter() >= end:
                    break
            if seconds is not None:
                seconds -= window
                if seconds <= 0:
                    return False
        started = time.perf_counter()
        ready = self._ready(seconds)
        # Sleeping, and woken soon after: the other side answers fast again.
        self._spin = time.perf_counter() - started < window
        return ready


def _opening(doing: Any) -> str:
    """What is being done ("running m.f(...)"), to open a sentence with."""
    text = str(doing)
    return text[:1].upper() + text[1:]


def _is_mark(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(_CALLBACK_MARK)


def _arguments(args: List[Any], kwargs: Dict[str, Any]) -> List[Tuple[Any, Any]]:
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


# --------------------------------------------------------------------------
# The judge side.

_context: Any = None


def _mp_context() -> Any:
    """A clean way to start workers: a fork server with only numpy loaded where
    there is one, so a worker holds none of the judge's state."""
    global _context
    if _context is None:
        methods = multiprocessing.get_all_start_methods()
        if "forkserver" in methods:
            _context = multiprocessing.get_context("forkserver")
            _context.set_forkserver_preload(["numpy", "gradkata.sandbox"])
        else:
            _context = multiprocessing.get_context("spawn")
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
_launch_thread: Any = None


def _launcher() -> Any:
    """One background thread that starts workers, one after another (each start
    briefly swaps sys.modules["__main__"], so two must never overlap)."""
    global _launch_thread
    if _launch_thread is None:
        from concurrent.futures import ThreadPoolExecutor

        _launch_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gradkata-launch")
    return _launch_thread


def _flush_std_streams() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (AttributeError, ValueError):  # no stream, or a closed one
            pass


def reap(seconds: float = 2.0) -> None:
    """Wait for the workers that were stopped, killing any still running after ``seconds``."""
    end = time.monotonic() + seconds
    while _stopping:
        proc = _stopping.pop()
        proc.join(max(0.0, end - time.monotonic()))
        if proc.is_alive():
            proc.kill()
            proc.join(1)


class Sandbox:
    """One learner module, imported in a worker process that is restarted when it dies."""

    def __init__(self, folder: str, module: str) -> None:
        self.folder = os.path.abspath(folder)
        self.module = module
        self.path = os.path.join(self.folder, module + ".py")
        self._proc: Any = None
        self._conn: Any = None
        self._waiter: Any = None
        self._ready = False  # has the worker imported the module?
        self._launching: Any = None  # a launch under way in the background
        self._import_problem: Optional[LearnerAbort] = None
        self._timed_out: Dict[str, str] = {}
        self.output: List[str] = []  # what the learner's code printed, call by call

    # -- life cycle --------------------------------------------------------

    def launch(self) -> None:
        """Start the worker without waiting for it: its import runs while the judge
        goes on (collecting tests, starting other workers); the first call waits."""
        if self._proc is not None or self._import_problem is not None:
            return
        if not os.path.exists(self.path):
            return  # the first call says so
        ctx = _mp_context()
        parent, child = ctx.Pipe()
        proc = ctx.Process(
            target=_worker_main,
            args=(child, self.folder, self.module, MEMORY_HEADROOM, jail.status().jailed),
            daemon=True,
        )
        # multiprocessing re-imports the judge's __main__ (pytest's script) in
        # every worker unless it looks like there is none: hide it for the start.
        main = sys.modules["__main__"]
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            proc.start()
        finally:
            sys.modules["__main__"] = main
        child.close()
        self._proc, self._conn, self._waiter = proc, parent, _Waiter(parent)
        self._ready = False

    def launch_soon(self) -> None:
        """:meth:`launch` in a background thread: asking the fork server for a
        process takes a millisecond or more, which the judge spends on other work.
        The first call (or close) waits for it.

        Starting a process flushes sys.stdout and sys.stderr (multiprocessing does,
        in the starting thread). From the background that flush can land while
        pytest's capture has swapped the streams back but not yet file descriptor
        1, sending text printed earlier (pytest's header) into the capture, where
        it is lost. So they are flushed here first, in the caller's thread, and the
        background flush finds nothing to write: pytest itself flushes what it
        prints between tests before it captures again."""
        if self._launching is None and self._proc is None:
            _flush_std_streams()
            self._launching = _launcher().submit(self.launch)

    def _launched(self) -> None:
        """Wait for a launch begun by :meth:`launch_soon` (and raise what it raised)."""
        if self._launching is not None:
            launching, self._launching = self._launching, None
            launching.result()

    def _start(self) -> None:
        self._launched()
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
            if not self._waiter.wait(seconds):
                self.close()
                raise LearnerTimeout(
                    f"{_opening(doing)} did not finish within {seconds:.3g} s: is there a loop "
                    "that never ends at the top level of the file?"
                )
            message = self._receive(doing)
        except LearnerAbort as exc:
            self._import_problem = exc
            raise
        if message[0] == "jail-error":
            self.close()
            self._import_problem = IsolationFailed(
                f"gradkata could not isolate {self.module}.py here ({message[1]}), so it was "
                "not run. This is not a fault of the code: tell whoever runs the grading.")
            raise self._import_problem
        if message[0] == "import-error":
            self._keep_output(message[2])
            self.close()
            self._import_problem = ImportFailed(
                f"{self.module}.py could not be imported, so none of its functions "
                f"can be graded:\n{message[1]}"
            )
            raise self._import_problem
        self._ready = True

    def close(self, graceful: bool = False) -> None:
        """Stop the worker: ask an idle one to exit (so tools such as coverage can
        save their data), kill one that is busy or does not answer. Neither waits:
        :func:`reap` collects the processes."""
        self._launched()
        if self._proc is not None:
            proc = self._proc
            try:
                stopped = False
                if graceful and self._ready:
                    try:
                        self._conn.send_bytes(pickle.dumps(("stop",), protocol=_PROTOCOL))
                        stopped = True
                    except OSError:
                        pass
                if not stopped:
                    proc.kill()
                _stopping.append(proc)
            finally:
                self._conn.close()
                self._proc, self._conn, self._waiter = None, None, None
                self._ready = False

    def _receive(self, doing: Any) -> Any:
        try:
            data = self._conn.recv_bytes()
        except (EOFError, OSError):
            raise self._crashed(doing) from None
        try:
            message = safe_loads(data)
            if message[0] == "return":  # ("return", result, changed args, records, printed)
                return (message[0],) + unpack(message[1:4]) + message[4:]
            if message[0] == "callback":  # ("callback", index, args, kwargs)
                return message[:2] + unpack(message[2:])
            if message[0] in ("chain", "each"):  # (kind, results, why it stopped, printed)
                return (message[0],) + unpack(message[1:3]) + message[3:]
            return message
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
            import signal

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

        ``doing`` names the call in messages ("running single_neuron.y_hat(...)"); it
        may be any object whose ``str`` does, rendered only when a message needs it.
        """
        callbacks: List[Callable[..., Any]] = []
        recordings: List[Recording] = []
        formulas = False

        def mark(value: Any) -> Any:
            nonlocal formulas
            if isinstance(value, Recording):
                formulas = True
                recordings.append(value)
                return (_FORMULA, value.expression, value.params, "record")
            if isinstance(value, Formula):
                formulas = True
                return (_FORMULA, value.expression, value.params)
            if callable(value):
                callbacks.append(value)
                return f"{_CALLBACK_MARK}{len(callbacks) - 1}"
            return value

        args = tuple(mark(a) for a in args)
        kwargs = {k: mark(v) for k, v in kwargs.items()}
        functions = bool(callbacks) or formulas  # the worker has arguments to turn into functions
        request = pickle.dumps(("call", name, pack(args), pack(kwargs), functions),
                               protocol=_PROTOCOL)
        message = self._converse(name, request, callbacks, doing)
        kind = message[0]
        if kind == "return":
            for recording, points in zip(recordings, message[3]):
                recording.points.extend(points)
            return message[1], message[2]
        raise self._failure(name, message, doing)

    def chain(self, name: str, args: tuple, kwargs: Dict[str, Any], feed: Any, steps: int,
              doing: Any) -> Tuple[List[Any], Any]:
        """Call ``name`` ``steps`` times in the worker, each time on the arguments that
        ``feed`` makes of the last result (see :func:`feed_arguments`), in one round
        trip. Returns (the results, why it stopped early or None)."""
        request = pickle.dumps(("chain", name, pack(args), pack(kwargs), (feed, steps)),
                               protocol=_PROTOCOL)
        message = self._converse(name, request, [], doing)
        if message[0] == "chain":
            return message[1], message[2]
        raise self._failure(name, message, doing)

    def each(self, name: str, calls: List[tuple], doing: Any) -> Tuple[List[Any], Any]:
        """Call ``name(*args)`` in the worker for each ``args`` of ``calls``, in one round
        trip. Returns ((result, changed arguments) for each call made, why it stopped
        early or None). The arguments may hold formulas, not the judge's functions."""
        formulas = False

        def mark(value: Any) -> Any:
            nonlocal formulas
            if isinstance(value, Formula) and not isinstance(value, Recording):
                formulas = True
                return (_FORMULA, value.expression, value.params)
            if callable(value):
                raise TypeError("each() passes formulas that record nothing, not functions: "
                                f"use call() for {value!r}")
            return value

        packed = [pack(tuple(mark(a) for a in args)) for args in calls]
        request = pickle.dumps(("each", name, packed, {}, formulas), protocol=_PROTOCOL)
        message = self._converse(name, request, [], doing)
        if message[0] == "each":
            return message[1], message[2]
        raise self._failure(name, message, doing)

    def _converse(self, name: str, request: bytes, callbacks: List[Callable[..., Any]],
                  doing: Any) -> Any:
        """Send a request, answer the worker's callbacks, and return its final message."""
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
            self._conn.send_bytes(request)
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._waiter.wait(remaining):
                    limit = self._limit_text()
                    self._timed_out[name] = limit
                    self.close()
                    raise LearnerTimeout(
                        f"{_opening(doing)} was still running after {limit} and was stopped. "
                        "Is there a loop that never ends (a while whose condition never "
                        "changes, or a counter that never moves)?"
                    )
                message = self._receive(doing)
                if message[0] != "callback":
                    break
                _, index, cb_args, cb_kwargs = message
                try:
                    reply: Tuple[str, Any] = ("ok", pack(callbacks[index](*cb_args, **cb_kwargs)))
                except Exception as exc:  # noqa: BLE001 - re-raised below, in the judge
                    judge_error = judge_error or exc
                    reply = ("error", f"{type(exc).__name__}: {exc}")
                self._conn.send_bytes(pickle.dumps(reply, protocol=_PROTOCOL))
        except BaseException:
            # Ctrl-C, a timeout or any judge-side failure mid-call: the worker's
            # side of the conversation is lost, so it is stopped (and restarted
            # by the next call).
            self.close()
            raise
        if message[0] == "missing":
            raise NotStarted(
                f"{self.module}.py has no function {name}: put back its definition "
                f"(`gradkata reset {self.module}` restores the original file)", name
            )
        self._keep_output(message[-1])
        if judge_error is not None:
            raise judge_error
        return message

    def raised(self, name: str, info: Dict[str, Any], doing: Any) -> LearnerAbort | LearnerError:
        """What the judge raises when the learner's function raised (``info`` from the worker)."""
        if info["not_implemented"]:
            return NotStarted(f"{self.module}.{name} is not written yet (it raises "
                              "NotImplementedError): not started", name)
        return LearnerError(f"{_opening(doing)} raised {info['type']}:\n{info['text']}",
                            info["type"])

    def _failure(self, name: str, message: Any, doing: Any) -> BaseException:
        if message[0] == "raise":
            return self.raised(name, message[1], doing)
        return BadReturn(f"{_opening(doing)} returned something that cannot be sent back "
                         f"({message[1]}); return numpy arrays, floats or tuples of them")

    def _limit_text(self) -> str:
        seconds = _test_seconds if _test_deadline is not None else DEFAULT_CALL_SECONDS
        return f"{seconds:g} s"

    def take_output(self) -> str:
        """What the learner's code printed since the last take, cut to a few KB."""
        text = "\n".join(self.output)
        self.output = []
        return cut(text)
