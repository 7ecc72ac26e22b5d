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

OUTPUT_LIMIT = 4000  # characters of learner output kept per call
MEMORY_HEADROOM = 2 * 1024**3  # bytes a worker may allocate beyond its start-up size
IMPORT_SECONDS = 10.0  # how long importing a learner module may take
DEFAULT_CALL_SECONDS = 10.0  # limit for a call made outside a timed test

_CALLBACK_MARK = "\x00gradkata-callback:"
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


class LearnerTimeout(LearnerAbort):
    """A call ran past its time limit and its worker was stopped."""


class LearnerCrash(LearnerAbort):
    """The worker process ended while running learner code."""


class ImportFailed(LearnerAbort):
    """The learner's module could not be imported: none of its functions can run."""


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


def _send(conn: Any, message: Any) -> None:
    conn.send_bytes(pickle.dumps(message, protocol=4))


def _callback(conn: Any, index: int) -> Callable[..., Any]:
    def call_judge(*args: Any, **kwargs: Any) -> Any:
        _send(conn, ("callback", index, pickle.dumps((args, kwargs), protocol=4)))
        kind, value = pickle.loads(conn.recv_bytes())
        if kind == "ok":
            return value
        raise RuntimeError(value)

    return call_judge


def _worker_main(conn: Any, folder: str, module: str, memory_headroom: int) -> None:
    _harden(memory_headroom)
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
        _, name, blob = message
        func = getattr(mod, name, None)
        if not callable(func):
            _send(conn, ("missing", name))
            continue
        args, kwargs = pickle.loads(blob)
        args = [_callback(conn, int(a[len(_CALLBACK_MARK):])) if _is_mark(a) else a
                for a in args]
        kwargs = {k: _callback(conn, int(v[len(_CALLBACK_MARK):])) if _is_mark(v) else v
                  for k, v in kwargs.items()}
        before = {key: _fingerprint(value) for key, value in _arguments(args, kwargs)}
        try:
            result = func(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - report, whatever it is
            info = {
                "type": type(exc).__name__,
                "not_implemented": isinstance(exc, NotImplementedError),
                "text": _learner_traceback(exc, folder),
            }
            _send(conn, ("raise", info, out.take()))
            continue
        changed = {}
        for key, value in _arguments(args, kwargs):
            if not callable(value) and _fingerprint(value) != before[key]:
                changed[key] = value
        try:
            payload = pickle.dumps((result, changed), protocol=4)
        except Exception as exc:  # noqa: BLE001
            _send(conn, ("unpicklable", f"{type(result).__name__}: {exc}", out.take()))
            continue
        _send(conn, ("return", payload, out.take()))


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
        import select

        self._poll = select.poll()
        self._poll.register(conn.fileno(), select.POLLIN | select.POLLERR | select.POLLHUP)
        self._spin = True  # did the last wait end within SPIN_SECONDS?

    def wait(self, seconds: Optional[float]) -> bool:
        """True once data (or the end of the pipe) is there; False after ``seconds``."""
        window = SPIN_SECONDS
        if self._spin and window > 0:
            end = time.perf_counter() + min(window, seconds if seconds is not None else window)
            while True:
                if self._poll.poll(0):
                    return True
                if time.perf_counter() >= end:
                    break
            if seconds is not None:
                seconds -= window
                if seconds <= 0:
                    return False
        started = time.perf_counter()
        ready = bool(self._poll.poll(None if seconds is None else max(0, int(seconds * 1000) + 1)))
        # Sleeping, and woken soon after: the other side answers fast again.
        self._spin = time.perf_counter() - started < window
        return ready


def _is_mark(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(_CALLBACK_MARK)


def _arguments(args: List[Any], kwargs: Dict[str, Any]) -> List[Tuple[Any, Any]]:
    return list(enumerate(args)) + list(kwargs.items())


def _fingerprint(value: Any) -> Any:
    """Something equal before and after a call exactly when ``value`` was not changed."""
    if callable(value):
        return None
    try:
        import numpy as np

        if isinstance(value, np.ndarray) and value.dtype != object:
            return (value.shape, value.dtype.str, value.tobytes())
        if isinstance(value, (list, tuple)):
            return (type(value).__name__, tuple(_fingerprint(v) for v in value))
        return pickle.dumps(value, protocol=4)  # scalars too: nan must equal nan
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
            args=(child, self.folder, self.module, MEMORY_HEADROOM),
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
            if not self._waiter.wait(seconds):
                self.close()
                raise LearnerTimeout(
                    f"{doing} did not finish within {seconds:.3g} s: is there a loop that "
                    "never ends at the top level of the file?"
                )
            message = self._receive(doing)
        except LearnerAbort as exc:
            self._import_problem = exc
            raise
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
        if self._proc is not None:
            proc = self._proc
            try:
                stopped = False
                if graceful and self._ready:
                    try:
                        self._conn.send_bytes(pickle.dumps(("stop",), protocol=4))
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

    def _receive(self, doing: str) -> Any:
        try:
            data = self._conn.recv_bytes()
        except (EOFError, OSError):
            raise self._crashed(doing) from None
        try:
            return safe_loads(data)
        except Exception as exc:  # noqa: BLE001
            self.close()
            raise BadReturn(
                f"{doing} sent back something that is not a number, an array or a list "
                f"of them ({exc}); return plain numpy arrays and floats"
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
        if name in self._timed_out:
            raise LearnerTimeout(
                f"{self.module}.{name} did not finish in an earlier test "
                f"({self._timed_out[name]}), so it is not run again"
            )
        if not self._ready:
            self._start()
        callbacks: List[Callable[..., Any]] = []

        def mark(value: Any) -> Any:
            if callable(value):
                callbacks.append(value)
                return f"{_CALLBACK_MARK}{len(callbacks) - 1}"
            return value

        blob = pickle.dumps(
            (tuple(mark(a) for a in args), {k: mark(v) for k, v in kwargs.items()}),
            protocol=4,
        )
        deadline = _deadline()
        judge_error: Optional[BaseException] = None
        try:
            self._conn.send_bytes(pickle.dumps(("call", name, blob), protocol=4))
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._waiter.wait(remaining):
                    limit = self._limit_text()
                    self._timed_out[name] = limit
                    self.close()
                    raise LearnerTimeout(
                        f"{doing} was still running after {limit} and was stopped. "
                        "Is there a loop that never ends (a while whose condition never "
                        "changes, or a counter that never moves)?"
                    )
                message = self._receive(doing)
                if message[0] != "callback":
                    break
                _, index, payload = message
                try:
                    cb_args, cb_kwargs = safe_loads(payload)
                    reply: Tuple[str, Any] = ("ok", callbacks[index](*cb_args, **cb_kwargs))
                except Exception as exc:  # noqa: BLE001 - re-raised below, in the judge
                    judge_error = judge_error or exc
                    reply = ("error", f"{type(exc).__name__}: {exc}")
                self._conn.send_bytes(pickle.dumps(reply, protocol=4))
        except BaseException:
            # Ctrl-C, a timeout or any judge-side failure mid-call: the worker's
            # side of the conversation is lost, so it is stopped (and restarted
            # by the next call).
            self.close()
            raise
        kind = message[0]
        if kind == "missing":
            raise NotStarted(
                f"{self.module}.py has no function {name}: put back its definition "
                f"(`gradkata reset {self.module}` restores the original file)"
            )
        self._keep_output(message[2])
        if judge_error is not None:
            raise judge_error
        if kind == "raise":
            info = message[1]
            if info["not_implemented"]:
                raise NotStarted(f"{self.module}.{name} is not written yet (it raises "
                                 "NotImplementedError): not started")
            raise LearnerError(f"{doing} raised {info['type']}:\n{info['text']}", info["type"])
        if kind == "unpicklable":
            raise BadReturn(f"{doing} returned something that cannot be sent back "
                            f"({message[1]}); return numpy arrays, floats or tuples of them")
        try:
            return safe_loads(message[1])
        except Exception as exc:  # noqa: BLE001
            raise BadReturn(
                f"{doing} returned a {exc} object; return plain numpy arrays, floats, "
                "or tuples and lists of them"
            ) from None

    def _limit_text(self) -> str:
        seconds = _test_seconds if _test_deadline is not None else DEFAULT_CALL_SECONDS
        return f"{seconds:g} s"

    def take_output(self) -> str:
        """What the learner's code printed since the last take, cut to a few KB."""
        text = "\n".join(self.output)
        self.output = []
        if len(text) > OUTPUT_LIMIT:
            text = text[:OUTPUT_LIMIT] + f"\n... ({len(text) - OUTPUT_LIMIT} more characters cut)"
        return text
