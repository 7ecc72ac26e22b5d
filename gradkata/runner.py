"""The graded suite, run once: one implementation folder against one kata folder.

``run_suite(kata, folder)`` runs ``pytest.main`` with gradkata's plugin in this
process, prints nothing, and returns every collected graded test's result
(:class:`gradkata.scoring.TestResult`) and, when pytest itself did not finish,
why. It is the one way the suite is run: always in a judge, a fresh process
used for one run only (:class:`Judge`, :func:`judge`).

Judges are forked from a warm template (multiprocessing's fork server) that
imported pytest, hypothesis, numpy and the plugin and ran pytest once
(:mod:`gradkata._judge_template`), so that no judge pays for start-up. Class
grading forks one per submission; ``gradkata watch`` one per save; where there
is no fork (Windows), or for a single check, a judge is a fresh interpreter.
Nothing of one run reaches the next: each judge starts from the template, and
its sandbox workers import the learner's modules anew. A forked judge's workers
come from a worker server of its own, forked from a lean process that the
template forked before it imported pytest (:func:`start_worker_template`): a
worker holds numpy and the sandbox, nothing of the judge's. Any other run of the
suite forks its workers' server from itself as collection begins, before a test
or the reference is imported (:func:`ensure_worker_server`).
"""

from __future__ import annotations

import contextlib
import io
import json
import multiprocessing
import os
import signal
import struct
import sys
import threading
import time
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, NamedTuple, Optional, Sequence, Set, Tuple

from . import scoring

# What a judge imports before its first run; class grading preloads these in the
# template its judges are forked from, so that no judge pays for them.
WARM_MODULES = (
    "numpy", "hypothesis", "hypothesis.strategies", "pytest", "pytest_timeout",
    "_hypothesis_pytestplugin", "gradkata.entry", "gradkata.plugin", "gradkata.jail",
    "gradkata.verdict", "gradkata.gradcheck", "gradkata.runner", "gradkata.conventions",
    # imported on first use: numpy.median (the verdicts' ratios) imports numpy.ma,
    # 20 ms; starting a worker, multiprocessing's fork server client
    "numpy.ma", "multiprocessing.popen_forkserver",
)


@dataclass
class SuiteRun:
    """What one run of the graded suite gave."""

    results: List[scoring.TestResult] = field(default_factory=list)
    seconds: float = 0.0
    error: str = ""  # empty when pytest finished (every test passed, or some failed)


class _Collector:
    """A pytest plugin object that keeps the session's graded results."""

    def __init__(self) -> None:
        self.results: List[scoring.TestResult] = []
        self.errors: List[str] = []  # why a file could not be collected

    def pytest_collectreport(self, report: Any) -> None:
        if report.failed:
            self.errors.append(f"{report.nodeid}:\n{report.longreprtext.strip()}")

    def pytest_sessionfinish(self, session: Any) -> None:
        from .plugin import _state_key

        state = session.config.stash.get(_state_key, None)
        if state is not None:
            self.results = list(state.results.values())


class _OptionNames:
    """Stands in for pytest's parser to learn which options a plugin adds."""

    def __init__(self) -> None:
        self.names: Set[str] = set()

    def getgroup(self, *args: Any, **kwargs: Any) -> _OptionNames:
        return self

    def addoption(self, *names: str, **kwargs: Any) -> None:
        self.names.update(names)

    def addini(self, *args: Any, **kwargs: Any) -> None:
        pass


def plugin_options() -> Set[str]:
    """The command-line options gradkata adds to pytest (``--impl``, ...)."""
    from . import entry

    names = _OptionNames()
    entry.pytest_addoption(names)  # type: ignore[arg-type]
    return names.names


# How every run of the suite calls pytest, before its own options and test paths.
BASE_ARGS = ("-p", "no:cacheprovider", "-p", "no:terminal", "-p", "no:randomly")

# The plugins the graded suite needs, registered in every run of the suite
# (:func:`_suite_plugins_only`): no other installed plugin (anyio, xdist,
# pytest-cov, ... where they are installed) is imported, registered or asked
# anything in a judge. That took 0.4 s of CPU from the start of a class batch (the
# template's warm-up) and 5 % of every judge's function calls. A kata whose
# suite needs another plugin names it (``-p NAME`` in addopts, or
# ``pytest_plugins`` in a conftest.py). They are given to pytest as modules, not
# as ``-p NAME``, which has pytest read every installed package's entry points
# once per name (3 ms each, in every judge); registered under the same names.
SUITE_PLUGINS = ("gradkata.entry", "pytest_timeout", "_hypothesis_pytestplugin")
_AUTOLOAD = "PYTEST_DISABLE_PLUGIN_AUTOLOAD"


@contextlib.contextmanager
def _suite_plugins_only() -> Iterator[List[Any]]:
    """While it lasts, pytest loads no plugin by its entry point; yields the
    modules of :data:`SUITE_PLUGINS`, for ``pytest.main(..., plugins=...)``."""
    import importlib

    before = os.environ.get(_AUTOLOAD)
    os.environ[_AUTOLOAD] = "1"
    try:
        yield [importlib.import_module(name) for name in SUITE_PLUGINS]
    finally:
        if before is None:
            del os.environ[_AUTOLOAD]
        else:
            os.environ[_AUTOLOAD] = before


class ConfigurationError(Exception):
    """pytest could not read the kata's configuration."""


def configuration(kata: Path) -> Tuple[Path, Optional[Path], str]:
    """The rootdir, the configuration file and the ini value ``gradkata_impl`` that
    pytest finds for the kata's tests, read by pytest itself (whichever of
    pyproject.toml, pytest.ini, tox.ini or setup.cfg holds its settings)."""
    import pytest

    kata = Path(kata)
    # Only the suite's own plugins (as every run of the suite): loading every
    # installed one (xdist, coverage...) cost this process 0.4 s of CPU before
    # the judge paid for them again.
    # --capture=no: nothing is run, and pytest need not take this process's output.
    args = [*BASE_ARGS, "--capture=no", "--rootdir", str(kata), str(kata / "tests")]

    class Configuration:
        """Reads the configuration pytest found, then ends the run before anything
        is configured or collected (its pytest_cmdline_main answers first)."""

        answer: Optional[Tuple[Path, Optional[Path], str]] = None

        @pytest.hookimpl(tryfirst=True)
        def pytest_cmdline_main(self, config: pytest.Config) -> int:
            self.answer = (Path(config.rootpath), config.inipath,
                           str(config.getini("gradkata_impl") or ""))
            return 0

    for light in (True, False):
        found = Configuration()
        sink = io.StringIO()
        with contextlib.ExitStack() as stack:
            stack.enter_context(contextlib.redirect_stdout(sink))
            stack.enter_context(contextlib.redirect_stderr(sink))
            plugins = stack.enter_context(_suite_plugins_only()) if light else []
            try:
                code = pytest.main(args, plugins=[*plugins, found])
            except Exception as exc:  # noqa: BLE001 - said, not raised
                code, sink = pytest.ExitCode.USAGE_ERROR, io.StringIO(str(exc))
        if found.answer is not None:
            return found.answer
    # (Without every plugin, an ini addopts naming a plugin's option fails: tried again.)
    why = " ".join(sink.getvalue().replace("ERROR:", "").split()) or f"status {int(code)}"
    raise ConfigurationError(f"pytest could not read the kata's configuration: {why}")


def run_suite(kata: Path, folder: Path, *, timeout: Optional[float] = None,
              extra: Sequence[str] = (), collect_only: bool = False,
              paths: Sequence[str] = (), inifile: Optional[str] = None) -> SuiteRun:
    """Run the graded suite of ``kata`` (its tests/, or the test files ``paths``) on
    the implementation in ``folder``, in this process, with the configuration file
    ``inifile`` (by default the kata's pyproject.toml: nothing outside the kata is
    read); ``timeout`` is each test's limit (None: the kata's own). What pytest
    prints is dropped; the results say it all."""
    import pytest

    kata = Path(kata)
    collector = _Collector()
    started = time.monotonic()
    args = [
        "-c", inifile or str(kata / "pyproject.toml"), "--rootdir", str(kata), *BASE_ARGS,
        f"--impl={folder}",
        *(["-o", f"timeout={timeout:g}"] if timeout is not None else []),
        *(["--collect-only"] if collect_only else []),
        *extra,
        *([str(kata / p) for p in paths] or [str(kata / "tests")]),
    ]
    sink = io.StringIO()
    error = ""
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink), \
            _suite_plugins_only() as plugins:
        try:
            code = int(pytest.main(args, plugins=[*plugins, collector]))
        except Exception as exc:  # noqa: BLE001 - a judge failure is reported, not raised
            code, error = -1, f"{type(exc).__name__}: {exc}"
    # 0 and 1 are "all passed" and "some failed"; anything else means pytest itself
    # did not finish (an internal error, an interruption, a usage error).
    if not error and code not in (0, 1):
        tail = "\n\n".join([*collector.errors, sink.getvalue().strip()]).strip()[-2000:]
        error = f"pytest ended with status {code}" + (f":\n{tail}" if tail else "")
    return SuiteRun(collector.results, time.monotonic() - started, error)


_WARM_UP_TEST = """
from hypothesis import given, settings, strategies as st


@settings(max_examples=1, database=None)
@given(st.integers())
def test_nothing(x):
    pass
"""


def warm_up(kata: Optional[str] = None) -> None:
    """Run pytest once, in this process (the judges' template), so that what every
    later run pays for once is paid here: finding and importing plugins,
    hypothesis's first run, filling caches. That is one trivial hypothesis test,
    then, with a ``kata``, a run of its suite on an empty folder: its test modules
    are imported (and compiled into it: class grading's snapshot, not yet sealed),
    its reference too (the conventions check loads it), and every test runs as far
    as "not started", through pytest's and the plugin's per-test code, before any
    judge is forked. No worker is started (there is no module to import). A judge
    then needs about a sixth less CPU than from a template that ran the trivial
    test only, and 8 % less than from one that only collected the suite
    (benchmarks/README.md); running the whole suite on the reference here gained
    no more, and took half a second more."""
    import tempfile

    import pytest

    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "test_gradkata_warm_up.py").write_text(_WARM_UP_TEST)
        sink = io.StringIO()
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink), \
                _suite_plugins_only() as plugins:
            pytest.main(["-q", "-p", "no:cacheprovider", "--rootdir", folder, folder],
                        plugins=plugins)
    if kata:
        saved = sys.dont_write_bytecode
        sys.dont_write_bytecode = False
        try:
            with tempfile.TemporaryDirectory() as nothing:
                run_suite(Path(kata), Path(nothing))
        finally:
            sys.dont_write_bytecode = saved


def own_cpus() -> List[int]:
    """The CPUs this process may run on (none where the OS does not say)."""
    return sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []


def run_on(cpus: Sequence[int]) -> None:
    """Run this process on ``cpus`` from now on (none: leave it as it is). Where the
    OS cannot, or a CPU was taken away meanwhile, any CPU will do."""
    if cpus and hasattr(os, "sched_setaffinity"):
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, cpus)


def silence_std_fds() -> None:
    """Point file descriptors 0, 1 and 2 at /dev/null, so that nothing this process
    starts holds the terminal or the pipes of whoever started it."""
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)


# --------------------------------------------------------------------------
# Judges: one fresh process per run of the suite

_LENGTH = struct.Struct("!Q")
EXIT_SECONDS = 2.0  # how long a judge that has answered may take to exit


class Task(NamedTuple):
    """What one judge is asked to do."""

    kata: str  # the kata folder (class grading: its snapshot)
    folder: str  # the implementation graded (for a judge that only collects: an empty one)
    timeout: Optional[float]  # each test's limit; None: the kata's own
    require_isolation: bool = False
    collect_only: bool = False
    paths: Tuple[str, ...] = ()  # the test files, relative to kata; none: all of tests/
    cache_bytecode: bool = False  # keep the compiled tests and reference in the kata
    inifile: Optional[str] = None  # pytest's configuration file; None: the kata's pyproject.toml
    # The CPUs the judge, and so its sandbox workers, run on; none: any. Class
    # grading gives each of its judges a CPU of its own (see classgrade.run_judges).
    cpus: Tuple[int, ...] = ()


def _judge(channel: Any, task: Task, forked: bool) -> None:
    """A judge's whole life: run the suite once, send the results, exit."""
    if hasattr(os, "setsid"):
        os.setsid()  # a signal to this judge's process group reaches no other process
    run_on(task.cpus)
    silence_std_fds()
    # No .pyc (possibly stale) in a learner's folder: the sandbox's workers write none.
    sys.dont_write_bytecode = True
    os.environ["PYTHONDONTWRITEBYTECODE"] = "1"  # for a fork server the sandbox starts
    if forked:  # from the warm template (a fresh interpreter lets the sandbox start its own)
        _start_worker_server()
    # The judge itself compiles the kata's tests and reference: class grading's
    # first judge caches them in the snapshot before it is sealed; the others
    # keep what they compile to themselves. A learner's own kata keeps them.
    sys.dont_write_bytecode = not (task.collect_only or task.cache_bytecode)
    extra: List[str] = []
    if task.require_isolation and "--require-isolation" in plugin_options():
        extra.append("--require-isolation")
    run = run_suite(Path(task.kata), Path(task.folder), timeout=task.timeout, extra=extra,
                    collect_only=task.collect_only, paths=task.paths, inifile=task.inifile)
    data = json.dumps({"results": [r.__dict__ for r in run.results],
                       "seconds": run.seconds, "error": run.error}).encode()
    channel.sendall(_LENGTH.pack(len(data)) + data)
    channel.close()


def _start_worker_server() -> None:
    """Start the fork server that the sandbox starts this judge's workers from: a
    fork of the lean process (:func:`start_worker_template`) where the judge was
    forked from a template that started one, else a fork of this judge now, while
    it holds libraries only (no test, no reference). Either way no interpreter is
    started and numpy is not imported again, in every judge. A judge forked from a
    template holds the kata's test modules (:func:`warm_up`): when the lean
    process is gone it raises (its row then says so) rather than fork workers
    that would hold them too.

    The server keeps only its own two file descriptors (and 0, 1, 2 on /dev/null),
    so that no worker inherits this judge's channel to whoever started it; it ends
    when this judge does."""
    import socket
    from multiprocessing import connection, forkserver, resource_tracker

    server: Any = forkserver._forkserver  # type: ignore[attr-defined]
    address = connection.arbitrary_address("AF_UNIX")  # type: ignore[attr-defined]
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(address)
    if isinstance(address, str) and not address.startswith("\0"):
        os.chmod(address, 0o600)
    listener.listen()
    alive_r, alive_w = os.pipe()
    pid: Optional[int] = None
    gone_r, gone_w = os.pipe()  # only the server holds gone_w: end of file when it ends
    if _worker_template is not None:
        try:
            socket.send_fds(_worker_template, [b"s"], [listener.fileno(), alive_r, gone_w])
        except OSError as exc:
            for fd in (alive_r, alive_w, gone_r, gone_w):
                os.close(fd)
            listener.close()
            raise RuntimeError(f"the workers' template is gone ({exc})") from None
    else:
        pid = os.fork()
    if pid == 0:
        _serve_workers(listener.fileno(), alive_r, gone_w)
    for fd in (alive_r, gone_w):
        os.close(fd)
    listener.close()
    server._forkserver_address = address
    server._forkserver_alive_fd = alive_w
    if pid is None:
        # Not this judge's child: multiprocessing must not wait for it, nor start
        # another one (the server ends with this judge's end of the alive pipe).
        server._forkserver_pid = None
        server.ensure_running = resource_tracker.ensure_running
        # A server that ends before this judge was killed (by a worker, unjailed):
        # this judge could start no more workers, so it ends too, killed, rather
        # than record its exercises as failed.
        threading.Thread(target=_die_with, args=(gone_r,), daemon=True).start()
    else:
        server._forkserver_pid = pid
        os.close(gone_r)


# Has this process started collecting a suite (and so may hold its tests)?
_collecting_began = False
# Is multiprocessing's fork server, here, the worker server forked above (not a
# judges' template)? Judges must not come from it (its forks start sessions).
_serving_workers = False


def ensure_worker_server() -> None:
    """Make sure this process has a server to fork sandbox workers from, before the
    suite's first worker starts (the plugin calls this as collection begins).

    A judge forked from the template already has one. Any other run of the suite
    (a learner's ``pytest``, a fresh judge, the Gradescope and PrairieLearn
    graders) forks one from itself here, the first time only: no test module and
    no reference has been imported yet, so the workers hold pytest, hypothesis,
    numpy and gradkata, and nothing that grades them. A fork takes a few
    milliseconds; multiprocessing's own fork server, a fresh interpreter importing
    numpy, kept the first worker waiting 150 ms and more. Where this process has
    collected a suite before (its tests are in memory), where pytest has already
    imported a conftest.py (a kata's own helpers, perhaps private ones), where
    fork is missing, or where other threads run (a fork copies only the calling
    one), multiprocessing starts that fresh server as before."""
    global _collecting_began, _serving_workers
    first, _collecting_began = not _collecting_began, True
    if not can_fork():
        return
    from multiprocessing import forkserver

    server: Any = forkserver._forkserver  # type: ignore[attr-defined]
    if getattr(server, "_forkserver_alive_fd", None) is None and first \
            and threading.active_count() == 1 and not _conftest_loaded():
        _start_worker_server()
        _serving_workers = True


def _conftest_loaded() -> bool:
    """Whether a conftest.py has been imported in this process."""
    return any(os.path.basename(getattr(module, "__file__", None) or "") == "conftest.py"
               for module in list(sys.modules.values()))


def _die_with(fd: int) -> None:
    os.read(fd, 1)
    os.kill(os.getpid(), signal.SIGKILL)


def _serve_workers(listener: int, alive_r: int, gone_w: int) -> None:
    """Be a worker server: multiprocessing's fork server loop on ``listener``, until
    ``alive_r`` reads end of file, holding ``gone_w`` open. Never returns."""
    import faulthandler
    from multiprocessing import forkserver, util

    try:
        # What a pytest process it was forked from had set up for itself goes:
        # a fault handler writing to a file closed below, pytest's import hook,
        # and output captured into files closed below.
        faulthandler.disable()
        sys.meta_path[:] = [f for f in sys.meta_path
                            if not type(f).__module__.startswith("_pytest")]
        sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
        ours = sorted({listener, alive_r, gone_w})
        os.closerange(3, ours[0])
        for low, high in zip(ours, ours[1:]):
            os.closerange(low + 1, high)
        os.closerange(ours[-1] + 1, 1 << 16)
        # Every worker starts in a session of its own, so that a signal to its
        # process group (kill(0, ...), all that a jailed worker can name)
        # reaches no judge and no other worker.
        util.register_after_fork(sys.modules[__name__], _own_session)
        forkserver.main(listener, alive_r, [])
    finally:
        os._exit(0)


# The judges' template's line to its lean process (None: there is none).
_worker_template: Optional[Any] = None


def start_worker_template() -> None:
    """Fork, from the judges' template while it holds numpy and the sandbox only, the
    lean process that every judge's worker server is forked from (a message carrying
    the server's three file descriptors asks for one). Forks of it copy, fault in and
    tear down about half the memory that forks of a judge would (no pytest, no
    hypothesis): on two cores that halved the system time of a class batch. It ends
    when the template and every judge have closed their end of the line."""
    import socket

    global _worker_template
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    pid = os.fork()
    if pid != 0:
        theirs.close()
        _worker_template = ours
        return
    try:
        ours.close()
        # Nothing of the template's (its listener, its alive pipe) is kept.
        os.closerange(3, theirs.fileno())
        os.closerange(theirs.fileno() + 1, 1 << 16)
        sys.dont_write_bytecode = True  # no .pyc in a learner's folder
        os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
        while True:
            try:
                message, fds, _, _ = socket.recv_fds(theirs, 16, 3)
            except OSError:
                break
            if not message:
                break  # every judge and the template are gone
            if len(fds) == 3 and os.fork() == 0:
                theirs.close()
                _serve_workers(*fds)
            for fd in fds:
                os.close(fd)
            _reap_servers()
    finally:
        os._exit(0)


def _reap_servers() -> None:
    """Wait for the worker servers that have ended (a wait keeps their CPU time in
    the accounts of whoever waits for this process)."""
    while True:
        try:
            if os.waitpid(-1, os.WNOHANG)[0] == 0:
                return
        except ChildProcessError:
            return


def _own_session(_: Any) -> None:
    with contextlib.suppress(OSError):
        os.setsid()


FORK_SERVER = "forkserver"
_contexts: Dict[bool, Any] = {}

# How the kata to warm the judges' template on reaches it (:func:`start_template`):
# the template's first module reads it and takes it out of the environment.
WARM_KATA = "GRADKATA_WARM_KATA"
warm_kata: Optional[str] = None  # in the template: that kata
_template_kata: Optional[str] = None  # in the process that started it: the same


def start_template(kata: Path) -> None:
    """Start the judges' template now, in the background, warmed on ``kata``'s suite
    (:func:`warm_up`); whoever starts a judge meanwhile waits for it. A template
    already running is stopped first: judges of one kata are never forked from a
    template that imported another kata's tests."""
    global _template_kata
    if not can_fork():
        return
    from multiprocessing import forkserver

    stop_template()
    judge_context()  # its preload list
    os.environ[WARM_KATA] = str(kata)
    try:
        forkserver.ensure_running()  # type: ignore[attr-defined]
    finally:
        del os.environ[WARM_KATA]
    _template_kata = str(kata)


def stop_template(seconds: float = 2.0) -> None:
    """Ask the judges' template (multiprocessing's fork server) to exit, wait for it
    a little, and tell multiprocessing it is gone, so that the next judge starts a
    new one. What does not exit in time is left to the caller to kill."""
    global _template_kata, _serving_workers
    _template_kata = None
    _serving_workers = False
    try:
        from multiprocessing import forkserver
    except ImportError:  # Windows: no fork server was started
        return
    server: Any = forkserver._forkserver  # type: ignore[attr-defined]
    if getattr(server, "_forkserver_alive_fd", None) is not None:
        with contextlib.suppress(OSError):
            os.close(server._forkserver_alive_fd)  # its end of file tells it to exit
    pid = getattr(server, "_forkserver_pid", None)
    end = time.monotonic() + seconds
    while pid is not None and time.monotonic() < end:
        try:
            if os.waitpid(pid, os.WNOHANG)[0]:
                break
        except ChildProcessError:
            break
        time.sleep(0.01)
    address = getattr(server, "_forkserver_address", None)
    if isinstance(address, str) and not address.startswith("\0"):
        with contextlib.suppress(OSError):
            os.unlink(address)
    server._forkserver_alive_fd = server._forkserver_address = server._forkserver_pid = None


def can_fork() -> bool:
    """Whether judges can be forked from a warm template here (not on Windows)."""
    return FORK_SERVER in multiprocessing.get_all_start_methods()


def judge_context(warm: bool = True) -> Any:
    """Where judges come from: a fork server with what every judge needs imported
    once (``warm``, where fork exists), else a fresh interpreter each."""
    warm = warm and can_fork()
    if warm not in _contexts:
        _contexts[warm] = multiprocessing.get_context(FORK_SERVER if warm else "spawn")
    if warm:  # set each time: the sandbox sets its own for the same fork server
        _contexts[warm].set_forkserver_preload(
            ["gradkata._worker_template", *WARM_MODULES, "gradkata._judge_template"])
    return _contexts[warm]


class Judge:
    """One judge at work, and what it has sent so far."""

    def __init__(self, task: Task, seconds: float, warm: bool = True) -> None:
        import socket

        if warm and (_serving_workers or _template_kata is not None
                     and Path(_template_kata) != Path(task.kata)):
            # warmed on another kata, or this process's worker server (it ran a
            # suite itself): the next start is a plain template
            stop_template()
        context = judge_context(warm)
        forked = context.get_start_method() == FORK_SERVER
        ours, theirs = socket.socketpair()
        self.process = context.Process(target=_judge, args=(theirs, task, forked), daemon=False)
        # Without a __main__ of its own, multiprocessing does not re-run the
        # command's main script in the judge (the sandbox does the same).
        main = sys.modules["__main__"]
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            self.process.start()
        finally:
            sys.modules["__main__"] = main
        theirs.close()
        ours.setblocking(False)
        self.channel = ours
        self.received = b""
        self.started = time.monotonic()
        self.deadline = self.started + seconds

    def read(self) -> None:
        """Take what the judge has sent, without waiting."""
        while True:
            try:
                chunk = self.channel.recv(1 << 16)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                chunk = b""
            if not chunk:
                return
            self.received += chunk

    def message(self) -> Optional[Dict[str, Any]]:
        if len(self.received) < _LENGTH.size:
            return None
        (length,) = _LENGTH.unpack_from(self.received)
        body = self.received[_LENGTH.size:]
        if len(body) < length:
            return None
        data: Dict[str, Any] = json.loads(body[:length].decode())
        return data

    def death(self) -> str:
        """Why the judge ended without results."""
        code = self.process.exitcode
        if code is not None and code < 0:
            try:
                return f"the judge was killed ({signal.Signals(-code).name})"
            except ValueError:
                return f"the judge was killed (signal {-code})"
        return f"the judge ended (status {code}) without results"

    def stop(self) -> None:
        if self.process.is_alive():
            kill_tree(self.process.pid)
            self.process.join(5)
        self.channel.close()


def suite_run(data: Dict[str, Any]) -> SuiteRun:
    """A judge's message as the run it describes."""
    return SuiteRun([scoring.TestResult(**r) for r in data["results"]],
                    float(data["seconds"]), str(data["error"]))


class JudgeFailed(Exception):
    """A judge ended, or ran past its time (``timed_out``), without results."""

    def __init__(self, why: str, timed_out: bool = False) -> None:
        super().__init__(why)
        self.timed_out = timed_out


def judge(task: Task, seconds: float, warm: bool = True) -> SuiteRun:
    """Run ``task`` in one fresh judge and wait for its results, at most ``seconds``
    (then :class:`JudgeFailed`). A KeyboardInterrupt meanwhile stops the judge and
    everything it started, and is raised again."""
    from multiprocessing.connection import wait

    running = Judge(task, seconds, warm)
    try:
        while True:
            wait([running.process.sentinel, running.channel],
                 timeout=max(0.0, running.deadline - time.monotonic()))
            running.read()
            data = running.message()
            if data is not None:
                running.process.join(EXIT_SECONDS)  # it has answered: let it end on its own
                return suite_run(data)
            if not running.process.is_alive():
                running.read()  # the last bytes, sent just before it ended
                data = running.message()
                if data is None:
                    raise JudgeFailed(running.death())
                return suite_run(data)
            if time.monotonic() > running.deadline:
                raise JudgeFailed(f"the judge was still running after {seconds:g} s",
                                  timed_out=True)
    finally:
        running.stop()  # and whatever it started that is still there


# --------------------------------------------------------------------------
# Processes: finding and ending what a judge left


def _parents() -> Dict[int, int]:
    """Every visible process's parent, from /proc."""
    parents = {}
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else ():
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                data = f.read()
        except OSError:
            continue  # it ended meanwhile
        # "pid (name) state ppid ...": the name may hold spaces and parentheses
        fields = data[data.rfind(b")") + 2:].split()
        parents[int(entry)] = int(fields[1])
    return parents


def descendants(pid: int) -> List[int]:
    """The processes below ``pid`` (children, theirs, ...), as /proc shows them now."""
    children: Dict[int, List[int]] = {}
    for child, parent in _parents().items():
        children.setdefault(parent, []).append(child)
    found, stack = [], list(children.get(pid, ()))
    while stack:
        child = stack.pop()
        found.append(child)
        stack.extend(children.get(child, ()))
    return found


def kill(pid: int) -> None:
    with contextlib.suppress(OSError):
        os.kill(pid, getattr(signal, "SIGKILL", signal.SIGTERM))


def kill_tree(pid: int) -> None:
    """Kill ``pid`` and everything below it (descendants first, so none is missed
    by being adopted elsewhere meanwhile)."""
    for child in descendants(pid):
        kill(child)
    kill(pid)
