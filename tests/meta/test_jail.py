"""The worker's jail (gradkata/jail.py), tried from the inside as a hostile submission would.

A driver script enters the jail in a fresh interpreter and reports, as JSON,
what it could see, write, reach and start. It runs as the current user (root
in CI) and as a temporary unprivileged user made for the test.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from gradkata import jail

ROOT = Path(__file__).resolve().parents[2]

DRIVER = textwrap.dedent('''
    import ctypes, json, os, signal, socket, sys, time
    try:
        from gradkata import jail
    except ImportError:  # run by a user who cannot read the installed kata: a copy
        import jail

    folder, secret, port, marker = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    jail.enter(folder)
    report = {"uid": os.getuid(), "cwd": os.getcwd(),
              "sees_folder": sorted(os.listdir(folder)),
              "sees_secret": os.path.exists(secret),
              "root": sorted(os.listdir("/")),
              "pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit())}
    try:
        open(os.path.join(folder, "planted.py"), "w").close()
        report["wrote_folder"] = True
    except OSError:
        report["wrote_folder"] = False
    libc = ctypes.CDLL(None, use_errno=True)
    report["remounted"] = libc.mount(None, folder.encode(), None,
                                     jail.MS_BIND | jail.MS_REMOUNT, None) == 0
    report["unmounted"] = libc.umount2(folder.encode(), jail.MNT_DETACH) == 0
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        report["network"] = True
    except OSError:
        report["network"] = False
    with open("/tmp/scratch", "w") as f:
        report["tmp_writable"] = f.write("ok") == 2
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    written = 0
    try:
        with open("/tmp/big", "wb") as f:
            while written < 2 * jail.MAX_FILE_BYTES:
                written += f.write(b"x" * 2**20)
                f.flush()
    except OSError:
        pass
    os.remove("/tmp/big")
    report["largest_file"] = written
    children = []
    try:
        for _ in range(2 * jail.MAX_PROCESSES):
            pid = os.fork()
            if pid == 0:
                time.sleep(30)
                os._exit(0)
            children.append(pid)
    except OSError:
        pass
    report["processes_started"] = len(children)
    # The worker is its namespace's init: a signal it sends itself is ignored where
    # its disposition is the default (coverage, measuring this, installs a handler).
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)
    report["outlived_its_own_sigterm"] = True
    for pid in children:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    # A detached daemon that should not survive the worker.
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(60)", marker])
        os._exit(0)
    os.wait()
    print(json.dumps(report), flush=True)
''')


def run_driver(tmp_path: Path, python: str, user: str = "") -> tuple[dict, str]:
    """Enter the jail in a fresh interpreter; return its report and the daemon's marker."""
    box = tmp_path / "box"
    (box / "submission").mkdir(parents=True)
    (box / "submission" / "m.py").write_text("x = 1\n")
    (box / "kata" / "solutions").mkdir(parents=True)
    secret = box / "kata" / "solutions" / "m.py"
    secret.write_text("ANSWER = 42\n")
    if user:
        shutil.copy(ROOT / "gradkata" / "jail.py", box / "jail.py")
    (box / "driver.py").write_text(DRIVER)
    for path in [tmp_path, *box.rglob("*"), box]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    marker = f"gradkata-jail-test-{uuid.uuid4().hex}"
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    try:
        command = [python, str(box / "driver.py"), str(box / "submission"), str(secret),
                   str(server.getsockname()[1]), marker]
        if user:
            command = ["runuser", "-u", user, "--", *command]
        env = {k: v for k, v in os.environ.items() if k != "GRADKATA_ISOLATION"}
        proc = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env,
                              cwd=str(box))
    finally:
        server.close()
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1]), marker


def alive_with(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def assert_jailed(report: dict, marker: str, tmp_path: Path) -> None:
    assert report["sees_folder"] == ["m.py"]
    assert report["cwd"] == str(tmp_path / "box" / "submission")
    assert not report["sees_secret"], "the kata next to the submission is visible"
    assert not report["wrote_folder"], "the submission's folder is writable"
    assert not report["remounted"] and not report["unmounted"]
    assert not report["network"], "a server on 127.0.0.1 was reachable"
    assert report["tmp_writable"]
    assert report["largest_file"] <= jail.MAX_FILE_BYTES
    # Only the namespace's own process: the worker, its init.
    assert report["pids"] == [1]
    assert report["outlived_its_own_sigterm"]
    time.sleep(0.2)  # the kernel ends the namespace's processes as its init ends
    assert alive_with(marker) == [], "a daemon started in the jail outlived it"


linux_namespaces = pytest.mark.skipif(
    not sys.platform.startswith("linux")
    or subprocess.run(["unshare", "-Ur", "true"], capture_output=True).returncode != 0,
    reason="needs Linux with user namespaces (`unshare -Ur true` fails here)")


@linux_namespaces
def test_the_jail_shows_the_submission_read_only_and_nothing_else(tmp_path):
    report, marker = run_driver(tmp_path, sys.executable)
    assert_jailed(report, marker, tmp_path)
    assert report["uid"] == os.getuid()


def _python_for(user: str) -> str:
    """An interpreter the user may run (pyenv's often sit in root's home)."""
    for candidate in (sys.executable, shutil.which("python3", path="/usr/local/bin:/usr/bin")):
        if candidate and subprocess.run(["runuser", "-u", user, "--", candidate, "-c", "pass"],
                                        capture_output=True).returncode == 0:
            return candidate
    pytest.skip(f"no Python that the temporary user {user} may run")


@pytest.fixture()
def unprivileged_user():
    if os.geteuid() != 0 or not shutil.which("useradd"):
        pytest.skip("making a temporary user needs root and useradd")
    name = f"gk{uuid.uuid4().hex[:8]}"
    subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
                   check=True)
    try:
        yield name
    finally:
        subprocess.run(["pkill", "-KILL", "-u", name], capture_output=True)
        subprocess.run(["userdel", name], check=True)


@linux_namespaces
def test_the_jail_holds_for_an_unprivileged_user_too(unprivileged_user):
    # Not under pytest's tmp_path: its parents are closed to other users.
    base = Path(tempfile.mkdtemp(prefix="gradkata-jail-"))
    try:
        report, marker = run_driver(base, _python_for(unprivileged_user), unprivileged_user)
        assert_jailed(report, marker, base)
    finally:
        shutil.rmtree(base)
    assert report["uid"] != 0
    # The process limit holds where the kernel counts it (not for root).
    assert report["processes_started"] < jail.MAX_PROCESSES


def test_without_the_jail_the_header_says_so_and_isolation_can_be_required():
    env = {**os.environ, "GRADKATA_ISOLATION": "processes"}
    env.pop("GRADKATA_IMPL", None)
    refused = subprocess.run([sys.executable, "-m", "pytest", "--impl", "solutions",
                              "-p", "no:cacheprovider", "--require-isolation", "tests"],
                             cwd=ROOT, capture_output=True, text=True, env=env)
    assert refused.returncode == 4, refused.stdout + refused.stderr
    assert "--require-isolation" in refused.stderr and "processes only" in refused.stderr
    verbose = subprocess.run([sys.executable, "-m", "pytest", "--impl", "solutions",
                              "-p", "no:cacheprovider", "--co", "tests"],
                             cwd=ROOT, capture_output=True, text=True, env=env)
    assert verbose.returncode == 0
    assert ("gradkata: isolation: processes only: not safe for hostile code "
            "(GRADKATA_ISOLATION=processes)") in verbose.stdout


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="probes Linux namespaces")
def test_a_jail_the_kernel_refuses_is_named_with_its_reason(monkeypatch):
    """The probe builds a jail in a fork of the process; what stopped it is said."""
    def refused(folder, writable=()):
        raise jail.JailError("unshare: Operation not permitted")

    monkeypatch.setattr(jail, "enter", refused)
    monkeypatch.delenv("GRADKATA_ISOLATION", raising=False)
    isolation = jail._probe()
    assert not isolation.jailed
    assert isolation.text == (f"{jail.FALLBACK} (the kernel refused a namespace: "
                              "unshare: Operation not permitted)")


@linux_namespaces
def test_with_the_jail_the_header_names_it():
    env = {k: v for k, v in os.environ.items() if k not in ("GRADKATA_ISOLATION", "GRADKATA_IMPL")}
    proc = subprocess.run([sys.executable, "-m", "pytest", "--impl", "solutions",
                           "-p", "no:cacheprovider", "--require-isolation", "--co", "tests"],
                          cwd=ROOT, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "gradkata: isolation: namespaces" in proc.stdout


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to list descriptors")
def test_learner_code_holds_no_descriptor_but_the_pipe_to_its_judge(tmp_path):
    from gradkata.sandbox import Sandbox

    (tmp_path / "m.py").write_text(
        "import os\n"
        "def held():\n"
        "    out = []\n"
        "    for fd in os.listdir('/proc/self/fd'):\n"
        "        try:\n"
        "            out.append(os.readlink('/proc/self/fd/' + fd))\n"
        "        except OSError:\n"
        "            pass  # the listing's own descriptor\n"
        "    return out\n")
    box = Sandbox(str(tmp_path), "m")
    try:
        held, _ = box.call("held", (), {}, "running m.held()")
    finally:
        box.close()
    channels = [target for target in held if target != "/dev/null"]
    assert len(channels) == 1 and channels[0].startswith(("socket:", "pipe:")), held


UNDOES_ITS_DEATH_SIGNAL = """
import ctypes


def spin(name):
    libc = ctypes.CDLL(None)
    libc.prctl(1, 0, 0, 0, 0)  # PR_SET_PDEATHSIG: no signal when its parent ends
    libc.prctl(15, name.encode(), 0, 0, 0)  # PR_SET_NAME: to be found in /proc
    while True:
        pass
"""


@linux_namespaces
def test_a_worker_stopped_mid_call_ends_even_if_it_undid_its_death_signal(tmp_path, monkeypatch):
    """Learner code can tell the kernel not to end it with its parent; the judge ends
    it all the same when it stops the worker (here: a call past its time)."""
    from gradkata import sandbox

    monkeypatch.delenv("GRADKATA_ISOLATION", raising=False)
    (tmp_path / "m.py").write_text(UNDOES_ITS_DEATH_SIGNAL)
    name = f"gk{uuid.uuid4().hex[:12]}"
    box = sandbox.Sandbox(str(tmp_path), "m")
    sandbox.set_deadline(time.monotonic() + 1.0, 1.0)
    try:
        with pytest.raises(sandbox.LearnerTimeout):
            box.call("spin", (name,), {}, "running m.spin")
    finally:
        sandbox.set_deadline(None)
        box.close()
        sandbox.reap()
    time.sleep(0.3)
    left = [p.name for p in Path("/proc").iterdir() if p.name.isdigit()
            and _running_as(p, name)]
    assert left == [], "the learner's process outlived its worker"


def _running_as(process: Path, name: str) -> bool:
    """Whether ``process`` runs under the name ``name`` (an ended one, not yet
    collected by its parent, does not run)."""
    try:
        stat = (process / "stat").read_text()
    except OSError:
        return False
    comm, state = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2]
    return comm == name and state not in "ZX"
