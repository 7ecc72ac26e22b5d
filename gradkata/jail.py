"""The worker's jail: Linux namespaces, so that learner code sees only what it needs.

A sandbox worker calls :func:`enter` before it imports learner code. From then
on the process (and anything it starts) lives in new user, PID, mount,
network and IPC namespaces, built with the kernel's own ``unshare(2)``,
``mount(2)`` and ``pivot_root(2)``, as bubblewrap builds them:

- its filesystem is a fresh tmpfs holding, read-only, the submission's folder,
  the Python installation and its site-packages, the system's shared libraries,
  ``/dev/null`` and friends and a ``/proc`` of its own PID namespace; plus a
  small private writable ``/tmp``. Nothing else: not the kata, not the
  reference, not the tests, not the gradebook, not other processes' ``/proc``;
- it has no network (a new network namespace has only a loopback, down);
- it holds no capabilities and cannot gain any (no_new_privs), so it cannot
  remount what it was given as writable;
- it is limited in processes, file size and CPU time;
- it dies with the worker: the worker is the first process of its new PID
  namespace, its init, and when init ends the kernel ends every process in it.

Two processes make one jailed worker. ``W``, the process the judge started,
creates the namespaces and forks ``K``, the PID namespace's init, which builds
the filesystem, drops every privilege, returns from :func:`enter` and serves the
judge. ``W`` only waits, and ends as ``K`` ended (its exit status or its
signal), so the judge sees K's end as the worker's; K dies with W (learner code
can undo that, so the sandbox kills K first when it stops a worker). Being init,
K ignores the signals it sends itself (``os.kill(os.getpid(), ...)``, or from
its own children): a crash (a segmentation fault) still ends it, and so does
any signal from outside, the judge's included. (A third process, an init that
only waits, would keep those signals working: it cost a fork, 4-8 ms a worker,
30-45 ms a submission, up to a tenth of class grading's time.)

Isolation is on wherever the kernel allows it (Linux with unprivileged user
namespaces, or root). ``GRADKATA_ISOLATION=processes`` turns it off (as on macOS
or Windows, where workers are plain processes); :func:`status` says which is in
force. This module imports only the standard library.
"""

from __future__ import annotations

import ctypes
import os
import platform
import signal
import sys
from typing import Iterable, List, NamedTuple, Optional, Sequence, Tuple

CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_REMOUNT = 0x20
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 0x40000
MNT_DETACH = 0x2

PR_SET_PDEATHSIG = 1
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4

# pivot_root(2) has no wrapper in the C library: its system call number per machine.
_SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "riscv64": 41, "ppc64le": 203, "s390x": 217}

# Limits of a jailed worker and everything it starts.
MAX_PROCESSES = 64
MAX_FILE_BYTES = 64 * 1024**2
MAX_CPU_SECONDS = 300  # far beyond any test's limit: only a worker orphaned mid-loop meets it
TMP_SIZE = "64m"  # the private writable /tmp

# Devices a program may expect; all are harmless.
_DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom")
# Where the system keeps shared libraries (C extensions load them lazily) and the
# loader's cache that finds them.
_SYSTEM = ("/lib", "/lib64", "/usr/lib", "/usr/lib64", "/etc/ld.so.cache")

_FAILED = 121  # K's exit status when it could not build the jail


class JailError(Exception):
    """The jail could not be built here (the kernel refused a step)."""


class Isolation(NamedTuple):
    """Which isolation a worker gets: ``text`` is for headers and summaries."""

    jailed: bool
    text: str


NAMESPACES = "namespaces"
FALLBACK = "processes only: not safe for hostile code"


# --------------------------------------------------------------------------
# The kernel calls


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise JailError(f"{what}: {os.strerror(errno)}")


def _mount(libc: ctypes.CDLL, source: Optional[str], target: str, fstype: Optional[str],
           flags: int, data: Optional[str] = None) -> None:
    def c(text: Optional[str]) -> Optional[bytes]:
        return None if text is None else os.fsencode(text)

    _check(libc.mount(c(source), c(target), c(fstype), ctypes.c_ulong(flags), c(data)),
           f"mount {source or fstype} on {target}")


def _write(path: str, text: str) -> None:
    with open(path, "w") as out:
        out.write(text)


# --------------------------------------------------------------------------
# What the worker sees


def visible_paths(folder: Optional[str]) -> List[str]:
    """Everything the jail shows, read-only: the submission's folder, the Python
    installation and where its packages live, and the system's libraries."""
    import site

    wanted = [folder] if folder else []
    wanted += [sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix]
    try:
        wanted += site.getsitepackages()
    except AttributeError:  # an old virtualenv's site module
        pass
    if site.ENABLE_USER_SITE and site.USER_SITE:
        wanted.append(site.USER_SITE)
    numpy_file = getattr(sys.modules.get("numpy"), "__file__", None)
    if numpy_file:
        wanted.append(os.path.dirname(os.path.dirname(numpy_file)))
    wanted += _SYSTEM
    return [p for p in dict.fromkeys(os.path.abspath(p) for p in wanted) if os.path.lexists(p)]


def _build(libc: ctypes.CDLL, show: Sequence[str], writable: Sequence[str],
           workdir: Optional[str]) -> None:
    """In K: the new root, with ``show`` bound read-only and ``writable`` as it is."""
    _mount(libc, None, "/", None, MS_REC | MS_PRIVATE)  # nothing leaks back to the host
    # Open every source first: the new root is mounted over /tmp, which may hold some.
    sources: List[Tuple[str, int, bool]] = []
    for path, rw in [(p, False) for p in show] + [(p, True) for p in writable]:
        for real in dict.fromkeys((path, os.path.realpath(path))):
            try:
                sources.append((real, os.open(real, os.O_PATH), rw))
            except OSError:
                continue  # gone since it was listed
    devices = [(d, os.open(d, os.O_PATH)) for d in _DEVICES if os.path.exists(d)]
    root = "/tmp"
    _mount(libc, "tmpfs", root, "tmpfs", MS_NOSUID, "mode=0755,size=1m")
    # The private /tmp first: a submission's folder may lie under the host's /tmp, and
    # is then shown on top of it.
    os.makedirs(root + "/tmp")
    _mount(libc, "tmpfs", root + "/tmp", "tmpfs", MS_NOSUID | MS_NODEV,
           f"mode=1777,size={TMP_SIZE},nr_inodes=4096")
    covered: List[str] = []
    for path, fd, rw in sorted(sources, key=lambda s: len(s[0])):
        if not rw and any(path == c or path.startswith(c.rstrip("/") + "/") for c in covered):
            os.close(fd)
            continue  # inside a folder already shown
        target = root + path
        if os.path.isdir(f"/proc/self/fd/{fd}"):
            os.makedirs(target, exist_ok=True)
        elif not os.path.exists(target):
            os.makedirs(os.path.dirname(target), exist_ok=True)
            open(target, "w").close()  # noqa: SIM115 - a mount point for a file
        _mount(libc, f"/proc/self/fd/{fd}", target, None, MS_BIND)
        os.close(fd)
        flags = MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV | (0 if rw else MS_RDONLY)
        _mount(libc, None, target, None, flags)
        if not rw:
            covered.append(path)
    os.makedirs(root + "/dev")
    for device, fd in devices:
        open(root + device, "w").close()  # noqa: SIM115 - a mount point for a device
        _mount(libc, f"/proc/self/fd/{fd}", root + device, None, MS_BIND)
        os.close(fd)
    os.makedirs(root + "/proc")
    # A /proc that shows this PID namespace only.
    _mount(libc, "proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    # Swap roots and drop the old one: afterwards no path leads out.
    number = _SYS_PIVOT_ROOT[platform.machine()]
    os.chdir(root)
    _check(libc.syscall(number, b".", b"."), "pivot_root")
    _check(libc.umount2(b".", MNT_DETACH), "unmount the old root")
    os.chdir("/")
    _mount(libc, None, "/", None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID)
    os.chdir(workdir if workdir and os.path.isdir(workdir) else "/tmp")


def _drop_privileges(libc: ctypes.CDLL) -> None:
    """No capabilities, and no way back to any (setuid programs and file capabilities
    included)."""
    _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    cap = 0
    while libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0:
        cap += 1
    libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                    ("inheritable", ctypes.c_uint32)]

    header = Header(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3: two Data structs
    data = (Data * 2)()
    _check(libc.capset(ctypes.byref(header), ctypes.byref(data)), "capset")


def _limit() -> None:
    import resource

    for which, value in ((resource.RLIMIT_NPROC, MAX_PROCESSES),
                         (resource.RLIMIT_FSIZE, MAX_FILE_BYTES),
                         (resource.RLIMIT_CPU, MAX_CPU_SECONDS)):
        soft, hard = resource.getrlimit(which)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(which, (value, value))


def _end_as(status: int) -> None:
    """End W as K ended: die of K's signal, or exit with K's status."""
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            signal.signal(sig, signal.SIG_DFL)
        except (OSError, ValueError):  # SIGKILL and SIGSTOP keep their default anyway
            pass
        os.kill(os.getpid(), sig)
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1)


def enter(folder: Optional[str], writable: Iterable[str] = ()) -> None:
    """Jail this process (see the module's docstring); returns in K, the jailed worker.

    ``folder`` (shown read-only, and the working folder) is the submission's;
    ``writable`` lists folders shown as they are (coverage's data, in the kata's
    own measurements). Raises :class:`JailError` when the kernel refuses, before
    anything is changed for good in this process.
    """
    libc = _libc()
    if platform.machine() not in _SYS_PIVOT_ROOT:
        raise JailError(f"no pivot_root system call known for {platform.machine()}")
    show = visible_paths(folder)
    writable = [os.path.abspath(p) for p in writable]
    uid, gid = os.getuid(), os.getgid()
    # W ends when its parent (the fork server, which ends with the judge) does.
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    _check(libc.unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET
                        | CLONE_NEWIPC), "unshare")
    try:
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"{uid} {uid} 1")
        _write("/proc/self/gid_map", f"{gid} {gid} 1")
    except OSError as exc:
        raise JailError(f"user namespace mapping: {exc}") from None
    # W now lives in a user namespace with nothing else of the host changed; its
    # files and pipes still work, so it can report a failure of K's.
    errors_r, errors_w = os.pipe()
    k = os.fork()
    if k == 0:  # K: init of the new PID namespace, and the worker
        os.close(errors_r)
        try:
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            _build(libc, show, writable, folder)
            _limit()
            _drop_privileges(libc)
        except BaseException as exc:  # noqa: BLE001 - reported to W, which raises it
            os.write(errors_w, str(exc).encode()[:4000] or b"failed")
            os._exit(_FAILED)
        os.close(errors_w)
        return
    os.close(errors_w)
    with os.fdopen(errors_r, "rb") as errors:
        problem = errors.read()
    if problem:
        os.waitpid(k, 0)
        raise JailError(problem.decode(errors="replace"))
    _end_as(os.waitpid(k, 0)[1])


# --------------------------------------------------------------------------
# Which isolation is in force


_status: Optional[Isolation] = None


def _try() -> Optional[str]:
    """Build a jail in a fork of this process, and end it: None when that worked,
    else why not. A fork, not a fresh interpreter: 20-30 ms instead of about 150."""
    errors_r, errors_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # W of a jail that is given nothing and ends at once
        code = 0
        try:
            os.close(errors_r)
            enter(None)
        except JailError as exc:
            os.write(errors_w, str(exc).encode()[:4000] or b"failed")
            code = 1
        except BaseException:  # noqa: BLE001 - anything else: said by the status alone
            code = 2
        os._exit(code)
    os.close(errors_w)
    with os.fdopen(errors_r, "rb") as errors:
        problem = errors.read()  # end of file once W and K have both ended
    _, status = os.waitpid(pid, 0)
    if problem:
        return problem.decode(errors="replace")
    code = os.waitstatus_to_exitcode(status)
    return None if code == 0 else f"exit status {code}"


def status() -> Isolation:
    """The isolation sandbox workers get in this process (tried once, then kept)."""
    global _status
    if _status is None:
        _status = _probe()
    return _status


def _probe() -> Isolation:
    setting = os.environ.get("GRADKATA_ISOLATION", "").strip()
    if setting == "processes":
        return Isolation(False, f"{FALLBACK} (GRADKATA_ISOLATION=processes)")
    if not sys.platform.startswith("linux"):
        return Isolation(False, f"{FALLBACK} (no Linux namespaces on {sys.platform})")
    try:
        why = _try()
    except OSError as exc:
        return Isolation(False, f"{FALLBACK} (the jail could not be tried: {exc})")
    if why is not None:
        return Isolation(False, f"{FALLBACK} (the kernel refused a namespace: {why})")
    return Isolation(True, NAMESPACES)
