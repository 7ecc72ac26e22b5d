"""The grader itself: score table, time limits, cut output, Gradescope results,
and the implementation switch (class grading against hostile submissions: test_hostile.py).

These run the real graded suite in subprocesses, on folders built from the
reference with one exercise replaced.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gradkata import catalog

ROOT = Path(__file__).resolve().parents[2]
FULL = {e.name: e.points for e in catalog.EXERCISES}


def run_pytest(*args: str, env: dict = None, timeout: float = 300) -> subprocess.CompletedProcess:
    environment = dict(os.environ, **(env or {}))
    environment.pop("GRADKATA_IMPL", None) if "GRADKATA_IMPL" not in (env or {}) else None
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
                          cwd=ROOT, capture_output=True, text=True, env=environment,
                          timeout=timeout)


def submission(tmp_path: Path, name: str, single_neuron: str = None) -> Path:
    """A folder with the reference's six modules, single_neuron.py replaced if given."""
    folder = tmp_path / name
    folder.mkdir()
    for path in (ROOT / "solutions").glob("*.py"):
        if path.name != "__init__.py":
            shutil.copy(path, folder)
    if single_neuron is not None:
        (folder / "single_neuron.py").write_text(single_neuron)
    return folder


def kata_copy(folder: Path) -> Path:
    """``folder``, made a copy of the kata: its configuration, reference and graded tests."""
    folder.mkdir()
    shutil.copy(ROOT / "pyproject.toml", folder)
    shutil.copytree(ROOT / "solutions", folder / "solutions",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "tests", folder / "tests",
                    ignore=shutil.ignore_patterns("__pycache__", "meta"))
    return folder


def with_y_hat(body: str, header: str = "") -> str:
    """The reference single_neuron.py with y_hat's body replaced by ``body``."""
    source = (ROOT / "solutions" / "single_neuron.py").read_text()
    old = "    return float(x_1 * w[0] + x_2 * w[1] + w[2])\n"
    assert source.count(old) == 1
    return header + source.replace(old, body)


def test_untouched_stubs_score_zero_in_a_few_lines():
    proc = run_pytest()
    out = proc.stdout
    assert proc.returncode == 1
    assert "Traceback" not in out and "NotImplementedError" not in out.split("gradkata score")[0]
    assert "0/100" in out
    table = out.split("gradkata score")[1].splitlines()
    rows = [line for line in table if line[:1].isdigit()]
    assert len(rows) == 6
    for row in rows:
        cells = row.split()
        assert cells[2].startswith("0/"), row
        assert cells[3] == "0" and cells[4] == "0" and int(cells[5]) > 0, row
    assert len(out.splitlines()) < 40
    assert "Next: single_neuron" in out


def test_solutions_score_every_point():
    proc = run_pytest("--impl", "solutions")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "100/100" in proc.stdout
    assert " skipped" not in proc.stdout


def test_points_add_up_to_the_catalog(tmp_path):
    raw = tmp_path / "raw.json"
    run_pytest("--impl", "solutions", "--gradkata-raw", str(raw))
    results = json.loads(raw.read_text())["results"]
    per = {}
    for r in results:
        per[r["exercise"]] = per.get(r["exercise"], 0) + r["points"]
    assert per == FULL
    assert sum(per.values()) == 100


def test_the_implementation_comes_from_the_environment_and_is_named_in_the_header():
    proc = run_pytest("tests/test_single_neuron.py", env={"GRADKATA_IMPL": "solutions"})
    assert proc.returncode == 0
    assert "grading solutions/" in proc.stdout and "set by GRADKATA_IMPL" in proc.stdout


def test_a_folder_that_does_not_exist_is_a_clear_usage_error():
    proc = run_pytest("--impl", "no/such/folder")
    assert proc.returncode == 4
    assert "--impl names 'no/such/folder', which is not a folder" in proc.stderr


def test_a_folder_outside_the_kata_alone_gets_a_way_out(tmp_path):
    # pytest looks for its configuration before it knows that --impl takes a value.
    folder = submission(tmp_path, "elsewhere")
    proc = run_pytest("--impl", str(folder))
    assert proc.returncode == 4
    assert "pytest --impl=FOLDER" in proc.stderr
    proc = run_pytest(f"--impl={folder}", "tests/test_learning_rate.py")
    assert proc.returncode == 0 and "grading " in proc.stdout


# A plugin for the test below: it holds pytest's capture half-restored (sys.stdout
# back, file descriptor 1 still captured) and makes the background worker start
# flush the streams inside that moment, which a busy machine does by chance.
WIDEN_THE_RACE = """
import os, sys, threading, time
import multiprocessing.util
import _pytest.capture

window = threading.Event()
flush = multiprocessing.util._flush_std_streams
suspend = _pytest.capture.SysCapture.suspend


def flush_in_the_window():
    if threading.current_thread() is not threading.main_thread():
        window.wait(5)
    flush()


def suspend_slowly(self):
    suspend(self)
    if self.name == "stdout":
        window.set()
        time.sleep(0.1)
        window.clear()


multiprocessing.util._flush_std_streams = flush_in_the_window
_pytest.capture.SysCapture.suspend = suspend_slowly
"""


def test_starting_workers_in_the_background_loses_none_of_the_header(tmp_path):
    (tmp_path / "widen_the_race.py").write_text(WIDEN_THE_RACE)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONUNBUFFERED", "GRADKATA_IMPL")}
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), env.get("PYTHONPATH", "")])
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "widen_the_race",
         "--impl", "solutions", "tests/test_learning_rate.py"],
        cwd=ROOT, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert proc.stdout.startswith("=====") and "test session starts" in proc.stdout
    assert "gradkata: grading solutions/" in proc.stdout and "collected 9 items" in proc.stdout


# Runs the learning_rate tests in one process and notes, at every full garbage
# collection, whether the objects that existed before the run were set aside.
FROZEN_DURING_THE_RUN = """
import gc, json, sys
import pytest

seen, collect = [], gc.collect


def noting_collect(*args):
    seen.append(gc.get_freeze_count())
    return collect(*args)


gc.collect = noting_collect
code = pytest.main(["-q", "-p", "no:cacheprovider", "--impl", "solutions",
                    "tests/test_learning_rate.py"])
gc.collect = collect
print(json.dumps({"code": int(code), "seen": seen, "after": gc.get_freeze_count()}))
"""


def test_pytests_collections_at_the_end_skip_what_existed_before_the_run():
    proc = subprocess.run([sys.executable, "-c", FROZEN_DURING_THE_RUN], cwd=ROOT,
                          capture_output=True, text=True, timeout=300,
                          env={k: v for k, v in os.environ.items() if k != "GRADKATA_IMPL"})
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["code"] == 0
    # pytest 8.4 and later collect at the end of the run: with the objects set aside.
    assert report["seen"] and all(count > 0 for count in report["seen"]), report
    assert report["after"] == 0  # and put back once pytest is done


def test_a_missing_module_counts_as_not_started(tmp_path):
    folder = submission(tmp_path, "partial")
    (folder / "single_neuron.py").unlink()
    proc = run_pytest("--impl", str(folder), "tests/test_single_neuron.py")
    assert proc.returncode == 1
    assert "there is no single_neuron.py" in proc.stdout
    assert "Traceback" not in proc.stdout


def test_a_loop_that_never_ends_fails_with_a_message_and_the_run_goes_on(tmp_path):
    folder = submission(tmp_path, "loop", with_y_hat("    while True:\n        pass\n"))
    started = time.monotonic()
    proc = run_pytest("--impl", str(folder), "-o", "timeout=2", "tests/test_single_neuron.py",
                      "tests/test_vectorized.py")
    assert time.monotonic() - started < 60
    assert "was still running after 2 s" in proc.stdout
    assert "loop that never ends" in proc.stdout
    assert "did not finish in an earlier test" in proc.stdout  # not waited for again
    table = proc.stdout.split("gradkata score")[1]
    assert f"{FULL['vectorized']}/{FULL['vectorized']}" in table


def test_what_learner_code_prints_is_cut_and_reported(tmp_path):
    chatty = with_y_hat('    print("gradient descent! " * 500_000)\n'
                        "    return float(x_1 * w[0] + x_2 * w[1] + w[2] + 1)\n")
    folder = submission(tmp_path, "chatty", chatty)
    results = tmp_path / "results.json"
    proc = run_pytest("--impl", str(folder), "--gradescope", str(results),
                      "tests/test_single_neuron.py")
    assert "What your code printed" in proc.stdout
    assert "more characters cut" in proc.stdout
    assert len(proc.stdout) < 100_000
    data = json.loads(results.read_text())
    assert all(len(t["output"]) < 10_000 for t in data["tests"])
    assert any("What your code printed" in t["output"] for t in data["tests"])


def test_gradescope_results_follow_their_schema_and_the_outcomes(tmp_path):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((Path(__file__).parent / "gradescope.schema.json").read_text())
    broken = with_y_hat("    return float(x_1 * w[0] + x_2 * w[1])\n")  # bias forgotten
    folder = submission(tmp_path, "broken", broken)
    results = tmp_path / "results.json"
    proc = run_pytest(f"--impl={folder}", "--gradescope", str(results))
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    data = json.loads(results.read_text())
    jsonschema.validate(data, schema)
    assert data["score"] == sum(t["score"] for t in data["tests"])
    assert all(t["score"] == (t["max_score"] if t["status"] == "passed" else 0)
               for t in data["tests"])
    single = [t for t in data["tests"] if t["tags"] == ["single_neuron"]]
    assert any(t["status"] == "failed" for t in single)
    assert data["score"] == 100 - sum(t["max_score"] for t in single if t["status"] == "failed")
    assert sum(t["max_score"] for t in data["tests"]) == 100


def test_xdist_workers_grade_as_one_process_does(tmp_path):
    # Each test's points travel in its reports to xdist's controller, which alone
    # writes the results: the same results.json as without -n, bar the time taken.
    pytest.importorskip("xdist")
    broken = with_y_hat("    return float(x_1 * w[0] + x_2 * w[1])\n")  # bias forgotten
    folder = submission(tmp_path, "broken", broken)
    runs = {}
    for label, extra in (("serial", []), ("xdist", ["-n", "2"])):
        results = tmp_path / f"{label}.json"
        proc = run_pytest(f"--impl={folder}", "--gradescope", str(results), *extra)
        assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
        runs[label] = json.loads(results.read_text())
    assert runs["xdist"]["tests"] == runs["serial"]["tests"]
    assert runs["xdist"]["output"] == runs["serial"]["output"]
    assert 0 < runs["xdist"]["score"] < sum(FULL.values())
    proc = run_pytest("--impl", "solutions", "-n", "2", "--gradescope", str(tmp_path / "s.json"))
    data = json.loads((tmp_path / "s.json").read_text())
    assert proc.returncode == 0 and data["score"] == sum(FULL.values())
    assert len(data["tests"]) == len(runs["serial"]["tests"])


def test_a_reference_is_run_once_a_process_until_its_file_changes(tmp_path):
    from gradkata.plugin import load_reference

    (tmp_path / "solutions").mkdir()
    source = tmp_path / "solutions" / "m.py"
    source.write_text("VALUE = 1\n")
    first = load_reference(tmp_path, "m", {})
    assert load_reference(tmp_path, "m", {}) is first  # a second session reuses it
    source.write_text("VALUE = 22\n")  # a new size, whatever the clock's resolution
    again = load_reference(tmp_path, "m", {})
    assert again is not first and again.VALUE == 22


def test_the_exercises_run_in_the_kata_s_order():
    proc = run_pytest("--impl", "solutions", "--collect-only", "-q")
    files = []
    for line in proc.stdout.splitlines():
        name = line.split("::")[0]
        if "::" in line and name not in files:
            files.append(name)
    assert files == [f"tests/test_{name}.py" for name in catalog.NAMES], proc.stdout[-2000:]


KILLS_ITS_SERVER = """
import os, signal
os.kill(os.getppid(), signal.SIGKILL)
"""


HOLDS_NO_TEST_OR_REFERENCE = """
import gc, sys, types

gc.unfreeze()  # what the process it was forked from set aside counts too
_names = set(sys.modules) | {o.__name__ for o in gc.get_objects()
                             if isinstance(o, types.ModuleType)}
_held = {n for n in _names if n.startswith(("_gradkata_reference", "test_", "shared_checks"))}
_held |= {o.__file__ for o in gc.get_objects() if isinstance(o, types.ModuleType)
          and (getattr(o, "__file__", None) or "").endswith("conftest.py")}
if _held:
    raise ImportError(f"the worker holds the judge's {sorted(_held)}")

"""

# What class grading's workers must not hold either: they come from a process
# forked before pytest was imported.
HOLDS_NOTHING_OF_THE_JUDGE = HOLDS_NO_TEST_OR_REFERENCE + """
_held = {"_pytest", "hypothesis"} & set(sys.modules)
if _held:
    raise ImportError(f"the worker holds the judge's {sorted(_held)}")

"""


def test_class_grading_workers_hold_no_pytest_and_a_judge_ends_with_its_worker_server(tmp_path):
    """Class grading forks each judge's worker server from a lean process (numpy and the
    sandbox): a worker finds no pytest, hypothesis, test module or reference in its
    memory, though the judges' template imported the kata's tests before any judge
    was forked, and every judge loads the reference. Unjailed, a worker can kill
    that server; its judge then ends too, and the submission is recorded as not
    graded rather than scored with exercises that could not run."""
    lean = submission(tmp_path, "lean", with_y_hat(
        "    return float(x_1 * w[0] + x_2 * w[1] + w[2])\n", header=HOLDS_NOTHING_OF_THE_JUDGE))
    killer = submission(tmp_path, "killer", with_y_hat(
        "    return float(x_1 * w[0] + x_2 * w[1] + w[2])\n", header=KILLS_ITS_SERVER))
    table = tmp_path / "grades.csv"
    env = {k: v for k, v in os.environ.items() if k != "GRADKATA_IMPL"}
    env["GRADKATA_ISOLATION"] = "processes"  # the kill is what the jail would stop
    proc = subprocess.run([sys.executable, "-m", "gradkata", "grade", str(lean), str(killer),
                           "--csv", str(table), "--jobs", "2"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 1, proc.stderr[-3000:]  # one submission not graded
    rows = {row["submission"]: row for row in csv.DictReader(table.open())}
    assert rows["lean"]["status"] == "graded", rows["lean"]
    assert float(rows["lean"]["score"]) == sum(FULL.values()), rows["lean"]
    assert rows["killer"]["status"] == "error: the judge was killed (SIGKILL)", rows["killer"]
    assert rows["killer"]["score"] == "", rows["killer"]


RUNS_THE_SUITE_THREE_WAYS = """
import json, sys
import pytest
from gradkata import runner

kata, folder = sys.argv[1:3]
args = ["-q", "-p", "no:cacheprovider", "--impl=" + folder, "tests/test_single_neuron.py"]
seen = {}
seen["first"] = int(pytest.main(args))
seen["first forked its server"] = runner._serving_workers
# A judge started by the same process is not forked from that worker server.
run = runner.judge(runner.Task(kata, folder, None, paths=("tests/test_single_neuron.py",)),
                   300, warm=True)
seen["judge"] = [run.error, sorted({r.status.value for r in run.results})]
runner.stop_template()
# This process now holds the test modules: no fork of it serves workers.
seen["second"] = int(pytest.main(args))
seen["second forked its server"] = runner._serving_workers
print(json.dumps(seen))
"""


def test_a_suite_run_in_process_forks_its_workers_server_before_any_test_is_imported(
        tmp_path):
    """A run of the suite outside class grading (a learner's pytest, a fresh judge,
    the hosted graders) forks the server its workers come from from itself when
    collection begins, once: a worker holds no test module and no reference. A
    judge the same process starts afterwards does not come from that server, and
    once the process holds the tests (it has run the suite), its workers come
    from a fresh interpreter instead."""
    folder = submission(tmp_path, "learner", with_y_hat(
        "    return float(x_1 * w[0] + x_2 * w[1] + w[2])\n",
        header=HOLDS_NO_TEST_OR_REFERENCE))
    env = {k: v for k, v in os.environ.items() if k != "GRADKATA_IMPL"}
    proc = subprocess.run([sys.executable, "-c", RUNS_THE_SUITE_THREE_WAYS, str(ROOT),
                           str(folder)], cwd=ROOT, capture_output=True, text=True, env=env,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen == {"first": 0, "first forked its server": True, "judge": ["", ["passed"]],
                    "second": 0, "second forked its server": False}, (seen, proc.stdout[-3000:])


REPORTS_ITS_CPUS = """
import os
_cpus = sorted(os.sched_getaffinity(0))
"""


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
                    reason="a judge is given a CPU of its own only where there are two or more")
def test_class_grading_runs_each_judge_and_its_workers_on_one_cpu(tmp_path):
    """A worker runs on the one CPU class grading gave its judge (their exchanges are
    synchronous: on two CPUs each would wake the other across them). Two judges at
    once get different CPUs."""
    from gradkata import classgrade, runner

    folders = [submission(tmp_path, name, with_y_hat(
        "    raise ValueError(f'worker on CPUs {_cpus}')\n", header=REPORTS_ITS_CPUS))
        for name in ("a", "b", "c")]
    tasks = [runner.Task(str(ROOT), str(f), None, paths=("tests/test_single_neuron.py",))
             for f in folders]
    runner.start_template(ROOT)
    try:
        outcomes = classgrade.run_judges(tasks, jobs=2, seconds=300)
    finally:
        runner.stop_template()
    seen = []
    for outcome in outcomes:
        assert outcome.status == classgrade.GRADED, outcome.status
        said = "ValueError: worker on CPUs "
        found = {m.split(said)[1].split("]")[0] + "]"
                 for m in (r.message for r in outcome.results) if said in m}
        assert len(found) == 1, found  # every test's worker: the same single CPU
        cpus = json.loads(found.pop())
        assert len(cpus) == 1, cpus
        seen.append(cpus[0])
    assert seen[0] != seen[1], seen  # the first two ran at once, on two CPUs


def test_a_kata_with_a_conftest_gets_its_workers_from_a_fresh_server(tmp_path):
    """pytest imports a kata's conftest.py before collection (its helpers may be
    private): a run that has one does not fork its workers' server from itself,
    so no worker holds it."""
    kata = kata_copy(tmp_path / "kata")
    (kata / "tests" / "conftest.py").write_text("PRIVATE_HELPER = 'in the judge only'\n")
    folder = submission(tmp_path, "learner", with_y_hat(
        "    return float(x_1 * w[0] + x_2 * w[1] + w[2])\n",
        header=HOLDS_NO_TEST_OR_REFERENCE))
    env = {k: v for k, v in os.environ.items() if k != "GRADKATA_IMPL"}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                           f"--impl={folder}", "tests/test_single_neuron.py"],
                          cwd=kata, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:]


def test_a_run_of_the_suite_loads_only_the_plugins_the_suite_needs(tmp_path, monkeypatch):
    """A judge's pytest loads gradkata's, pytest-timeout's and hypothesis's plugins by
    name and no other installed one (pytest-xdist, installed with the kata's dev
    tools, here), and leaves the environment as it found it."""
    from gradkata import runner

    (tmp_path / "plugin_names_probe.py").write_text(
        "import json, os\n\n\ndef pytest_configure(config):\n"
        "    names = sorted(n for n, _ in config.pluginmanager.list_name_plugin())\n"
        "    with open(os.environ['PLUGIN_NAMES'], 'w') as out:\n"
        "        json.dump(names, out)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("PLUGIN_NAMES", str(tmp_path / "names.json"))
    monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    run = runner.run_suite(ROOT, ROOT / "solutions", collect_only=True,
                           extra=["-p", "plugin_names_probe"])
    assert run.error == "" and run.results
    names = json.loads((tmp_path / "names.json").read_text())
    assert set(runner.SUITE_PLUGINS) <= set(names), names
    assert not [n for n in names if "xdist" in n], names
    assert "PYTEST_DISABLE_PLUGIN_AUTOLOAD" not in os.environ


def test_a_template_warmed_on_one_kata_forks_no_judge_for_another(tmp_path):
    """Class grading warms the judges' template on its kata (its test modules are
    imported there). A judge for another kata never comes from
    that template (pytest would find the first kata's test modules in its memory): a
    plain template is started for it."""
    from gradkata import classgrade, runner

    other = kata_copy(tmp_path / "other")
    runner.start_template(ROOT)
    try:
        [end] = classgrade.run_judges([runner.Task(str(other), str(ROOT / "solutions"), None)],
                                      jobs=1, seconds=300)
        assert end.status == classgrade.GRADED, end.status
        assert end.results
        assert all(r.status.value == "passed" for r in end.results), [
            r.message for r in end.results if r.status.value != "passed"][:1]
        assert runner._template_kata is None  # the warmed one was stopped
    finally:
        runner.stop_template()
