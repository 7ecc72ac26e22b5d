"""The gradkata command line, run as a learner runs it: ``python -m gradkata ...``
in a copy of the project (gradkata itself is installed, so only the tree is copied).

Run with ``pytest tests/meta/test_cli.py -p no:cacheprovider``.
"""

from __future__ import annotations

import os
import shutil
import signal
import struct
import subprocess
import sys
import threading
import time
import types
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np
import pytest

from gradkata import catalog, cli, hints, plots, progress, scoring

# Each test runs the CLI (and through it the graded suite) in subprocesses: more
# than the suite's own 10 s per test on a busy machine.
pytestmark = pytest.mark.timeout(120)

ROOT = Path(__file__).resolve().parents[2]
TESTED = [e for e in catalog.EXERCISES if (ROOT / "tests" / f"test_{e.name}.py").is_file()]

SOLVED_Y_HAT = "    return float(x_1 * w[0] + x_2 * w[1] + w[2])"
Y_HAT_STUB = '    raise NotImplementedError("single_neuron.y_hat: not started")'


def make_project(where: Path, graded: Optional[Sequence[str]] = None) -> Path:
    """A copy of the kata: pyproject.toml, exercises/, solutions/ and the graded test
    files (all of them, or those of the exercises named in ``graded``)."""
    project = where / "kata"
    (project / "tests").mkdir(parents=True)
    shutil.copy2(ROOT / "pyproject.toml", project)
    ignore = shutil.ignore_patterns("__pycache__", "*.gradkata-backup")
    for folder in ("exercises", "solutions"):
        shutil.copytree(ROOT / folder, project / folder, ignore=ignore)
    for path in (ROOT / "tests").glob("*.py"):
        is_graded = path.name.startswith("test_")
        if not is_graded or graded is None or any(path.stem == f"test_{g}" for g in graded):
            shutil.copy2(path, project / "tests")
    return project


def gradkata(project: Path, *args: str, env: Optional[Dict[str, str]] = None,
             input: Optional[str] = None, timeout: float = 120) -> subprocess.CompletedProcess:
    run_env = dict(os.environ if env is None else env)
    run_env.pop("GRADKATA_IMPL", None)
    run_env["NO_COLOR"] = "1"
    return subprocess.run([sys.executable, "-m", "gradkata", *args], cwd=str(project),
                          env=run_env, input=input if input is not None else "", text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)


def line_of(output: str, exercise: catalog.Exercise) -> str:
    prefix = f"{exercise.number:>2} {exercise.name} "
    return next(line for line in output.splitlines() if line.startswith(prefix))


def png_size(path: Path) -> tuple:
    """Width and height from a PNG's IHDR chunk (bytes 16 to 24)."""
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    return struct.unpack(">II", data[16:24])


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


# --------------------------------------------------------------------------
# list and check


def test_bare_gradkata_lists_every_exercise_not_started_on_the_stubs(tmp_path):
    project = make_project(tmp_path)
    result = gradkata(project)
    assert result.returncode == 0, result.stdout
    for exercise in catalog.EXERCISES:
        line = line_of(result.stdout, exercise)
        want = "not started" if exercise in TESTED else "no graded tests"
        assert want in line and f" 0/{exercise.points} " in line, line
    total = next(line for line in result.stdout.splitlines() if line.strip().startswith("total"))
    assert "0/6 done" in total and f"0/{catalog.TOTAL_POINTS}" in total
    assert "Next: 1 single_neuron" in result.stdout


def test_list_of_the_solutions_shows_every_tested_exercise_done(tmp_path):
    project = make_project(tmp_path)
    result = gradkata(project, "list", "--impl", "solutions")
    assert result.returncode == 0, result.stdout
    for exercise in TESTED:
        line = line_of(result.stdout, exercise)
        assert "done" in line and f"{exercise.points}/{exercise.points}" in line, line
        assert "[##########]" in line
    earned = sum(e.points for e in TESTED)
    assert f"{earned}/{catalog.TOTAL_POINTS}" in result.stdout


def test_check_on_the_stubs_fails_and_names_the_first_unwritten_function(tmp_path):
    project = make_project(tmp_path, graded=["single_neuron", "loop_gradients"])
    result = gradkata(project, "check")
    assert result.returncode == 1, result.stdout
    assert "1 single_neuron" in result.stdout
    assert "Write y_hat next, in exercises/single_neuron.py" in result.stdout
    assert "gradkata hint single_neuron" in result.stdout
    assert "loop_gradients" not in result.stdout  # only the first unfinished exercise
    assert "Traceback" not in result.stdout


def test_check_of_an_exercise_that_passes_exits_0(tmp_path):
    project = make_project(tmp_path, graded=["single_neuron"])
    result = gradkata(project, "check", "1", "--impl", "solutions")
    assert result.returncode == 0, result.stdout
    assert "8/8 tests pass" in result.stdout or "tests pass, 15/15 points" in result.stdout
    assert "It passes" in result.stdout


def test_check_says_exercise_done_once_when_it_has_just_passed(tmp_path):
    project = make_project(tmp_path, graded=["single_neuron", "loop_gradients"])
    first = gradkata(project, "check")  # the stubs: nothing passes, nothing to announce
    assert "done:" not in first.stdout
    shutil.copy2(project / "solutions" / "single_neuron.py", project / "exercises")
    result = gradkata(project, "check")
    assert "Exercise 1 done: single_neuron passes every test." in result.stdout, result.stdout
    assert "2 loop_gradients" in result.stdout  # and it moves on to the next one
    again = gradkata(project, "check")
    assert "Exercise 1 done" not in again.stdout  # said once, when it happened


def test_check_stops_an_endless_loop_at_the_time_limit(tmp_path):
    project = make_project(tmp_path, graded=["single_neuron"])
    edit(project / "exercises" / "single_neuron.py", Y_HAT_STUB,
         "    while True:\n        pass")
    started = time.monotonic()
    result = gradkata(project, "check", "single_neuron", "--time-limit", "2")
    assert result.returncode == 1, result.stdout
    assert "was still running after 2 s and was stopped" in result.stdout
    assert "Traceback" not in result.stdout
    assert time.monotonic() - started < 30


def test_an_unknown_exercise_is_a_usage_error(tmp_path):
    project = make_project(tmp_path, graded=[])
    result = gradkata(project, "hint", "7")
    assert result.returncode == 2
    assert "there is no exercise '7'" in result.stdout
    assert "1 single_neuron" in result.stdout


# --------------------------------------------------------------------------
# hint and solution


def test_every_exercise_has_three_or_more_distinct_hints():
    table = hints.load()
    for exercise in catalog.EXERCISES:
        given = table.get(exercise.name, [])
        assert len(given) >= 3 and len(set(given)) == len(given) and all(given), exercise.name


def test_hint_shows_the_next_hint_each_time_and_all_shown_so_far(tmp_path):
    project = make_project(tmp_path, graded=[])
    given = hints.load()["single_neuron"]
    first = gradkata(project, "hint", "1")
    second = gradkata(project, "hint", "single_neuron")
    every = gradkata(project, "hint", "single_neuron", "--all")
    assert first.returncode == second.returncode == every.returncode == 0
    assert f"Hint 1 of {len(given)}" in first.stdout and "Hint 2" not in first.stdout
    assert given[0].split()[0] in first.stdout
    assert f"Hint 2 of {len(given)}" in second.stdout and "Hint 1 " not in second.stdout
    assert "Hint 1 of" in every.stdout and "Hint 2 of" in every.stdout
    assert "Hint 3 of" not in every.stdout
    assert (project / ".gradkata" / "hints.json").is_file()


def test_solution_is_shown_only_once_the_exercise_passes(tmp_path):
    project = make_project(tmp_path, graded=["single_neuron"])
    hidden = gradkata(project, "solution", "single_neuron")
    assert hidden.returncode == 1, hidden.stdout
    assert SOLVED_Y_HAT.strip() not in hidden.stdout
    assert "Not started yet: y_hat, gradient_w1, gradient_w2, gradient_b, adapt_weights" \
        in hidden.stdout
    shown = gradkata(project, "solution", "1", "--impl", "solutions")
    assert shown.returncode == 0, shown.stdout
    assert SOLVED_Y_HAT.strip() in shown.stdout
    assert "BEGIN SOLUTION" not in shown.stdout and "END SOLUTION" not in shown.stdout


# --------------------------------------------------------------------------
# reset


@pytest.mark.skipif(shutil.which("git") is None, reason="reset takes the stub from git")
def test_reset_restores_the_stub_after_confirmation_and_keeps_a_backup(tmp_path):
    project = make_project(tmp_path, graded=[])
    git = ["git", "-c", "user.name=kata", "-c", "user.email=kata@example.org"]
    subprocess.run(git + ["init", "-q"], cwd=project, check=True)
    subprocess.run(git + ["add", "-A"], cwd=project, check=True)
    subprocess.run(git + ["commit", "-qm", "the kata"], cwd=project, check=True)
    target = project / "exercises" / "single_neuron.py"
    stub = target.read_text()
    edit(target, Y_HAT_STUB, SOLVED_Y_HAT)
    mine = target.read_text()

    declined = gradkata(project, "reset", "single_neuron", input="n\n")
    assert declined.returncode == 1 and "Nothing changed" in declined.stdout
    assert target.read_text() == mine

    confirmed = gradkata(project, "reset", "1", input="y\n")
    assert confirmed.returncode == 0, confirmed.stdout
    assert target.read_text() == stub
    backups = list(target.parent.glob("single_neuron.py.*.gradkata-backup"))
    assert len(backups) == 1 and backups[0].read_text() == mine
    assert backups[0].name in confirmed.stdout

    again = gradkata(project, "reset", "1", "--yes")
    assert again.returncode == 0 and "already the original stub" in again.stdout


def test_reset_outside_a_git_clone_says_so_and_changes_nothing(tmp_path):
    project = make_project(tmp_path, graded=[])
    env = dict(os.environ, GIT_CEILING_DIRECTORIES=str(tmp_path))  # no repository above
    target = project / "exercises" / "single_neuron.py"
    edit(target, Y_HAT_STUB, SOLVED_Y_HAT)
    mine = target.read_text()
    result = gradkata(project, "reset", "1", "--yes", env=env)
    assert result.returncode == 1
    assert "git" in result.stdout and "Traceback" not in result.stdout
    assert target.read_text() == mine


# --------------------------------------------------------------------------
# plot


def expected_size(figsize: tuple) -> tuple:
    return tuple(int(round(inches * plots.DPI)) for inches in figsize)


def test_plot_learning_rate_draws_the_seeds_figure_with_the_learners_update_weights(tmp_path):
    project = make_project(tmp_path, graded=[])
    result = gradkata(project, "plot", "learning-rate", "--impl", "solutions", "--out", "x.png")
    assert result.returncode == 0, result.stdout
    assert png_size(project / "x.png") == expected_size(plots.LEARNING_RATE_FIGSIZE)
    assert "frozen from epoch 3" in result.stdout  # lr 1: W stops at about 12755
    assert "Saved the figure to x.png" in result.stdout


def test_plot_learning_rate_on_the_stubs_says_not_started(tmp_path):
    project = make_project(tmp_path, graded=[])
    result = gradkata(project, "plot", "learning-rate", "--out", "x.png")
    assert result.returncode == 1
    assert "not started" in result.stdout.lower() and "Traceback" not in result.stdout
    assert not (project / "x.png").exists()
    [line] = [line for line in result.stdout.splitlines() if line.startswith("Not started:")]
    assert line.lower().count("not started") == 1, line  # said once, not twice


def test_plot_loss_draws_the_loss_of_the_learners_backward(tmp_path):
    project = make_project(tmp_path, graded=[])
    result = gradkata(project, "plot", "loss", "vectorized", "--impl", "solutions",
                      "--out", "loss.png")
    assert result.returncode == 0, result.stdout
    assert png_size(project / "loss.png") == expected_size(plots.LOSS_FIGSIZE)
    assert "least-squares optimum" in result.stdout
    # The reference is named as such, not as the learner's code.
    assert "Running the reference vectorized.backward" in result.stdout
    assert "Running your" not in result.stdout


def test_plot_loss_takes_the_learning_rate_from_lr(tmp_path):
    project = make_project(tmp_path, graded=[])
    result = gradkata(project, "plot", "loss", "numeric_gradients", "--lr", "0.1", "--impl",
                      "solutions", "--out", "loss.png")
    assert result.returncode == 0, result.stdout
    assert "at learning rate 0.1 ..." in result.stdout
    refused = gradkata(project, "plot", "loss", "numeric_gradients", "--lr", "-1")
    assert refused.returncode == 2 and "above 0" in refused.stdout


def test_plot_without_a_display_saves_the_figure_in_the_current_folder(tmp_path):
    project = make_project(tmp_path, graded=[])
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "MPLBACKEND")}
    result = gradkata(project, "plot", "loss", "1", "--impl", "solutions", env=env)
    assert result.returncode == 0, result.stdout
    assert "Saved the figure to gradkata-loss-single_neuron.png" in result.stdout
    assert png_size(project / "gradkata-loss-single_neuron.png")


def test_plot_without_matplotlib_says_how_to_install_it(tmp_path):
    project = make_project(tmp_path, graded=[])
    code = ("import sys; sys.modules['matplotlib'] = None; from gradkata.cli import main; "
            "sys.exit(main(['plot', 'learning-rate']))")
    result = subprocess.run([sys.executable, "-c", code], cwd=str(project), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    assert result.returncode == 1
    assert 'pip install "gradkata[plots]"' in result.stdout and "Traceback" not in result.stdout


# --------------------------------------------------------------------------
# watch


def _hear_ctrl_c() -> None:
    # A command started in the background by a shell without job control (as in
    # `tox &` or a cron script) inherits Ctrl-C as ignored, and Python then never
    # turns SIGINT into KeyboardInterrupt: give the watcher a terminal's default.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Watcher:
    """``gradkata watch`` in the background, its output collected line by line."""

    def __init__(self, project: Path, *args: str) -> None:
        env = dict(os.environ, NO_COLOR="1")
        env.pop("GRADKATA_IMPL", None)
        self.proc = subprocess.Popen([sys.executable, "-m", "gradkata", "watch", *args],
                                     cwd=str(project), env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     preexec_fn=_hear_ctrl_c if os.name == "posix" else None)
        self.lines: List[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, condition: Callable[[str], bool], timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not condition(self.output):
            if time.monotonic() > deadline or self.proc.poll() is not None and \
                    not self.reader.is_alive() and not condition(self.output):
                raise AssertionError(f"gave up waiting; the output was:\n{self.output}")
            time.sleep(0.05)

    def count(self, text: str) -> int:
        return self.output.count(text)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)


WATCHING = "Watching exercises/ for changes"


def test_watch_checks_again_on_every_save_and_survives_a_syntax_error(tmp_path):
    project = make_project(tmp_path, graded=["single_neuron"])
    target = project / "exercises" / "single_neuron.py"
    watcher = Watcher(project, "--exit-after", "2")
    try:
        watcher.wait_for(lambda out: WATCHING in out)
        assert "Write y_hat next" in watcher.output
        time.sleep(1)  # let the file watcher settle
        target.write_text(target.read_text() + "\ndef broken(:\n")
        watcher.wait_for(lambda out: out.count(WATCHING) == 2)
        assert "single_neuron.py changed: checking again" in watcher.output
        assert "SyntaxError" in watcher.output and "could not be imported" in watcher.output
        fixed = target.read_text().replace("\ndef broken(:\n", "")
        target.write_text(fixed.replace(Y_HAT_STUB, SOLVED_Y_HAT))  # one save
        assert watcher.proc.wait(60) == 1  # two re-checks done; single_neuron not finished
        watcher.reader.join(10)
        last = watcher.output.rsplit("checking again", 1)[1]
        assert "2/8 tests pass" in last and "Write gradient_w1 next" in last
        assert "Traceback" not in watcher.output
    finally:
        watcher.stop()


def test_watch_starts_by_stating_what_is_done_not_announcing_it(tmp_path):
    project = make_project(tmp_path, graded=["single_neuron"])
    gradkata(project, "check")  # remembered: nothing passes
    shutil.copy2(project / "solutions" / "single_neuron.py", project / "exercises")
    watcher = Watcher(project)
    try:
        watcher.wait_for(lambda out: WATCHING in out)
        assert "done:" not in watcher.output  # nothing changed since the watch began
    finally:
        watcher.stop()


@pytest.mark.skipif(os.name != "posix", reason="sends SIGINT")
def test_watch_ctrl_c_stops_a_running_check_and_a_second_one_quits(tmp_path):
    project = make_project(tmp_path, graded=["single_neuron"])
    edit(project / "exercises" / "single_neuron.py", Y_HAT_STUB, "    while True:\n        pass")
    watcher = Watcher(project, "--time-limit", "60")
    try:
        watcher.wait_for(lambda out: "Checking exercises/" in out)
        time.sleep(1)  # pytest is starting, or already in the endless y_hat: either way
        started = time.monotonic()
        watcher.proc.send_signal(signal.SIGINT)
        watcher.wait_for(lambda out: WATCHING in out, timeout=20)
        assert "Check stopped (Ctrl-C). Still watching" in watcher.output
        assert time.monotonic() - started < 15  # well before the 60 s limit
        time.sleep(0.5)
        watcher.proc.send_signal(signal.SIGINT)
        assert watcher.proc.wait(20) == 0
        watcher.reader.join(10)
        assert "Stopped watching" in watcher.output and "Traceback" not in watcher.output
    finally:
        watcher.stop()


# --------------------------------------------------------------------------
# grade and gradescope-bundle belong to other modules


@pytest.mark.parametrize("command,module", [("grade", "gradkata.classgrade"),
                                            ("gradescope-bundle", "gradkata.bundle")])
def test_teacher_commands_get_the_rest_of_the_command_line_untouched(tmp_path, command, module):
    code = ("import sys, types\n"
            f"fake = types.ModuleType({module!r})\n"
            "fake.main = lambda argv: print('ARGV', argv) or 3\n"
            f"sys.modules[{module!r}] = fake\n"
            "from gradkata.cli import main\n"
            f"sys.exit(main([{command!r}, '--impl', 'x', '-h', 'a b']))\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=str(tmp_path), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    assert result.returncode == 3, result.stdout
    assert "ARGV ['--impl', 'x', '-h', 'a b']" in result.stdout


# --------------------------------------------------------------------------
# In-process: the CLI's messages for every outcome of a run, with the run faked


@pytest.fixture
def kata(tmp_path, monkeypatch):
    """A copy of the kata, as the current folder, for calling cli.main in this process."""
    project = make_project(tmp_path, graded=[])
    monkeypatch.chdir(project)
    monkeypatch.delenv("GRADKATA_IMPL", raising=False)
    return project


def result(name: str, status: str = "passed", exercise: str = "single_neuron",
           message: str = "", output: str = "") -> scoring.TestResult:
    return scoring.TestResult(f"tests/test_{exercise}.py::{name}", name, exercise, 1.0, status,
                              message, output)


def fake_run(monkeypatch, project: Path, results: Sequence[scoring.TestResult] = (),
             impl: str = "exercises", **state: object) -> progress.Run:
    """Make progress.run_suite return these results (for the exercises asked for)."""
    def run_suite(root, impl_, names=None, time_limit=None):
        wanted = list(names) if names is not None else list(catalog.NAMES)
        return progress.Run(impl_, wanted, [r for r in results if r.exercise in wanted],
                            **state)

    monkeypatch.setattr(progress, "run_suite", run_suite)
    return run_suite(project, progress.resolve_impl(impl, project))


def test_check_shows_the_first_failure_and_what_the_learners_code_printed(kata, monkeypatch,
                                                                          capsys):
    fake_run(monkeypatch, kata, [
        result("test_a"),
        result("test_b", "failed", message="What this test checks: b\nCalled y_hat(2, -1, w).",
               output="hello from y_hat"),
        result("test_c", "not started", message="single_neuron.gradient_b is not written yet"),
    ])
    assert cli.main(["check"]) == 1
    out = capsys.readouterr().out
    assert "1/3 tests pass" in out and "Failed: test_b" in out
    assert "  Called y_hat(2, -1, w)." in out
    assert "What your code printed:\n  hello from y_hat" in out
    assert "Total: 1/" in out and "0/6 exercises done" in out


def test_check_of_an_exercise_without_graded_tests_says_so(kata, monkeypatch, capsys):
    fake_run(monkeypatch, kata, [result("test_a")])
    assert cli.main(["check", "2"]) == 1
    assert "2 loop_gradients has no graded tests yet" in capsys.readouterr().out


def test_check_and_list_when_every_graded_exercise_passes(kata, monkeypatch, capsys):
    fake_run(monkeypatch, kata, [result("test_a"), result("test_b")])
    assert cli.main(["check"]) == 0
    assert "Every graded exercise passes (loop_gradients," in capsys.readouterr().out
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    assert "no graded tests yet" in line_of(out, catalog.EXERCISES[1])
    assert "done" in line_of(out, catalog.EXERCISES[0])


def test_check_of_a_test_that_did_not_run_names_its_status(kata, monkeypatch, capsys):
    fake_run(monkeypatch, kata, [result("test_a", "skipped", message="needs scipy")])
    assert cli.main(["check", "single_neuron"]) == 1
    assert "Did not run (skipped): test_a\n  needs scipy" in capsys.readouterr().out


def test_a_stopped_or_broken_run_is_reported_for_every_command(kata, monkeypatch, capsys):
    fake_run(monkeypatch, kata, interrupted=True)
    assert cli.main(["list"]) == 130
    assert "Check stopped (Ctrl-C)" in capsys.readouterr().out
    fake_run(monkeypatch, kata, problem="pytest could not start")
    for command in (["check"], ["solution", "1"]):
        assert cli.main(command) == 1
        assert "gradkata: pytest could not start" in capsys.readouterr().err


def test_solution_lists_what_is_left_and_refuses_without_tests_or_reference(kata, monkeypatch,
                                                                           capsys):
    fake_run(monkeypatch, kata, [result("test_a", "skipped"), result("test_b", "failed")])
    assert cli.main(["solution", "1"]) == 1
    out = capsys.readouterr().out
    assert "  - test_a (skipped)\n  - test_b\n" in out
    fake_run(monkeypatch, kata, [])
    assert cli.main(["solution", "1"]) == 1
    assert "no graded tests yet" in capsys.readouterr().out
    (kata / "solutions" / "single_neuron.py").unlink()
    assert cli.main(["solution", "1"]) == 1
    assert "the reference solutions/single_neuron.py is missing" in capsys.readouterr().err


def test_the_last_hint_is_shown_again_and_an_exercise_without_hints_says_so(kata, monkeypatch,
                                                                           capsys):
    count = len(hints.load()["vectorized"])
    hints.record(kata, "vectorized", count)
    assert cli.main(["hint", "vectorized"]) == 0
    out = capsys.readouterr().out
    assert "That was the last hint for vectorized" in out and f"Hint {count} of {count}" in out
    assert "That is every hint" in out
    assert "hint vectorized --all` shows the" in cli.hint_line("vectorized", kata)
    monkeypatch.setattr(hints, "load", lambda: {})
    assert cli.main(["hint", "vectorized"]) == 1
    assert "no hints for vectorized" in capsys.readouterr().out
    assert "again after each change" in cli.hint_line("vectorized", kata)


def test_watch_without_watchfiles_says_how_to_install_it(kata, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "watchfiles", None)
    assert cli.main(["watch"]) == 1
    assert 'pip install "gradkata[watch]"' in capsys.readouterr().err


def test_usage_errors_exit_with_status_2(kata, monkeypatch, capsys, tmp_path):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["plot", "loss", "gradient_check"])
    assert exit_.value.code == 2 and "no training step" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        cli.main(["list", "--impl", "nowhere"])
    assert exit_.value.code == 2 and "'nowhere', which is not a folder" in capsys.readouterr().err
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_:
        cli.main(["check"])
    assert exit_.value.code == 2 and "not inside a gradkata project" in capsys.readouterr().err


def test_plot_reports_a_learners_problem_a_blow_up_and_an_unwritable_file(kata, monkeypatch,
                                                                         capsys, tmp_path):
    def broken(folder, root):
        raise plots.PlotProblem("It returned nonsense.")

    monkeypatch.setattr(plots, "learning_rate_histories", broken)
    assert cli.main(["plot", "learning-rate", "--out", "x.png"]) == 1
    assert "could not draw the plot:\n  It returned nonsense." in capsys.readouterr().out

    histories = {0.01: [0.5, 0.8, 1.1], 0.1: [4.5, 3.0, 3.0], 1: [45.0, -654.0, 12755.0]}
    monkeypatch.setattr(plots, "learning_rate_histories", lambda folder, root: histories)
    assert cli.main(["plot", "learning-rate", "--out", str(tmp_path / "no" / "x.png")]) == 1
    assert "could not write the figure" in capsys.readouterr().err
    assert cli.main(["plot", "learning-rate", "--out", str(tmp_path / "lr.png")]) == 0
    out = capsys.readouterr().out
    assert "frozen from epoch 2 on" in out and f"Saved the figure to {tmp_path / 'lr.png'}" in out

    setup = plots.LOSS_SETUPS["vectorized"]()
    curve = plots.LossCurve(setup, [1.0, 50.0, 1e20], 0.5, diverged_at=2)
    monkeypatch.setattr(plots, "loss_curve", lambda folder, root, exercise, lr=None: curve)
    assert cli.main(["plot", "loss", "3", "--out", "loss.png"]) == 0
    assert "The loss blew up at epoch 2" in capsys.readouterr().out
    assert png_size(kata / "loss.png") == expected_size(plots.LOSS_FIGSIZE)


@pytest.mark.skipif(shutil.which("git") is None, reason="reset takes the stub from git")
def test_reset_refuses_solutions_needs_git_and_restores_a_deleted_file(kata, monkeypatch, capsys):
    assert cli.main(["reset", "1", "--impl", "solutions"]) == 1
    assert "solutions/ holds the reference and is never reset" in capsys.readouterr().out

    monkeypatch.setattr(cli.shutil, "which", lambda name: None)
    assert cli.main(["reset", "1", "--yes"]) == 1
    assert "git is not installed" in capsys.readouterr().out
    monkeypatch.undo()
    monkeypatch.chdir(kata)

    git = ["git", "-c", "user.name=kata", "-c", "user.email=kata@example.org"]
    subprocess.run(git + ["init", "-q"], cwd=kata, check=True)
    subprocess.run(git + ["add", "-A"], cwd=kata, check=True)
    subprocess.run(git + ["commit", "-qm", "the kata"], cwd=kata, check=True)
    target = kata / "exercises" / "single_neuron.py"
    stub = target.read_text()
    edit(target, Y_HAT_STUB, SOLVED_Y_HAT)

    def no_terminal(prompt: str) -> str:
        raise EOFError

    monkeypatch.setattr("builtins.input", no_terminal)
    assert cli.main(["reset", "1"]) == 1
    assert "Nothing changed" in capsys.readouterr().out and SOLVED_Y_HAT in target.read_text()

    subprocess.run(git + ["commit", "-qam", "my y_hat"], cwd=kata, check=True)
    target.unlink()
    assert cli.main(["reset", "1", "--yes"]) == 0  # the stub from before "my y_hat"
    assert target.read_text() == stub
    assert not list(target.parent.glob("*.gradkata-backup"))  # nothing to keep
    assert "kept" not in capsys.readouterr().out

    subprocess.run(git + ["rm", "-q", "exercises/vectorized.py"], cwd=kata, check=True)
    subprocess.run(git + ["commit", "-qm", "no vectorized"], cwd=kata, check=True)
    shutil.copy2(kata / "solutions" / "vectorized.py", kata / "exercises")
    subprocess.run(git + ["add", "exercises/vectorized.py"], cwd=kata, check=True)
    subprocess.run(git + ["commit", "-qm", "solved vectorized"], cwd=kata, check=True)
    assert cli.main(["reset", "3", "--yes"]) == 0  # past a solved and a deleted version
    assert (kata / "exercises" / "vectorized.py").read_text() == \
        (ROOT / "exercises" / "vectorized.py").read_text()

    fresh = kata / "fresh"
    shutil.copytree(kata, fresh, ignore=shutil.ignore_patterns(".git"))
    shutil.copy2(kata / "solutions" / "vectorized.py", fresh / "exercises")
    subprocess.run(git + ["init", "-q"], cwd=fresh, check=True)
    subprocess.run(git + ["add", "-A"], cwd=fresh, check=True)
    subprocess.run(git + ["commit", "-qm", "solved from the start"], cwd=fresh, check=True)
    monkeypatch.chdir(fresh)
    assert cli.main(["reset", "3", "--yes"]) == 1
    assert "no committed version of exercises/vectorized.py that is still a stub" in \
        capsys.readouterr().out


def test_a_teacher_command_after_options_or_not_installed(monkeypatch, capsys):
    fake = types.ModuleType("gradkata.bundle")
    fake.main = lambda argv: print("ARGV", argv)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "gradkata.bundle", fake)
    assert cli.main(["gradescope-bundle", "--out", "b.zip"]) == 0
    assert "ARGV ['--out', 'b.zip']" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_:  # gradkata's options are not the bundle's
        cli.main(["--impl", "solutions", "gradescope-bundle", "--out", "b.zip"])
    assert exit_.value.code == 2 and "put them after" in capsys.readouterr().err
    monkeypatch.setitem(cli.PASSTHROUGH, "grade", ("gradkata._not_a_module_for_tests", "x"))
    assert cli.main(["grade", "--csv", "x.csv"]) == 2
    assert "gradkata grade is not available" in capsys.readouterr().err


def test_ctrl_c_outside_a_check_ends_the_command_quietly(monkeypatch, capsys):
    def interrupted(args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setitem(cli.HANDLERS, "hint", interrupted)
    assert cli.main(["hint", "1"]) == 130
    assert "Stopped." in capsys.readouterr().out


def test_a_backup_never_overwrites_an_earlier_one(tmp_path):
    target = tmp_path / "single_neuron.py"
    first = cli.backup_path(target)
    first.write_text("mine")
    second = cli.backup_path(target)
    assert second != first and second.name.endswith(".gradkata-backup")


def test_colours_only_on_a_terminal_without_no_color(monkeypatch, kata):
    class Terminal:
        def isatty(self) -> bool:
            return True

    run = fake_run(monkeypatch, kata, [result("test_a")])
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert "\033[32mdone" in "\n".join(cli.progress_lines(run, cli.Style(Terminal())))
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\033[" not in "\n".join(cli.progress_lines(run, cli.Style(Terminal())))


def test_unwritten_functions_are_read_from_the_learners_file_without_running_it(tmp_path):
    exercise = catalog.find("single_neuron")
    source = (ROOT / "exercises" / "single_neuron.py").read_text()
    path = tmp_path / "single_neuron.py"
    path.write_text(source.replace(Y_HAT_STUB, SOLVED_Y_HAT))
    assert cli.unwritten_functions(path, exercise) == list(exercise.functions[1:])
    path.write_text("def y_hat(:\n")
    assert cli.unwritten_functions(path, exercise) == []  # a syntax error: no guess
    assert cli.unwritten_functions(tmp_path / "absent.py", exercise) == list(exercise.functions)
    assert cli.is_stub(source.encode(), exercise)
    assert not cli.is_stub((ROOT / "solutions" / "single_neuron.py").read_bytes(), exercise)


# --------------------------------------------------------------------------
# progress: finding the project, the graded folder, and runs that go wrong


def test_the_project_and_the_graded_folder_are_found_as_the_plugin_finds_them(kata, monkeypatch,
                                                                             tmp_path):
    assert progress.find_root(kata / "exercises") == kata.resolve()
    with pytest.raises(progress.ProjectNotFound):
        progress.find_root(tmp_path)
    assert progress.resolve_impl(None, kata).source == "the ini value gradkata_impl"
    monkeypatch.setenv("GRADKATA_IMPL", "solutions")
    impl = progress.resolve_impl(None, kata)
    assert (impl.folder, impl.label, impl.source) == (kata / "solutions", "solutions/",
                                                      "GRADKATA_IMPL")
    mine = kata / "mine"
    mine.mkdir()
    impl = progress.resolve_impl("mine/", kata, cwd=kata)
    assert (impl.folder, impl.label, impl.value) == (mine.resolve(), "mine/", str(mine.resolve()))
    with pytest.raises(progress.BadImpl, match="--impl names 'absent'"):
        progress.resolve_impl("absent", kata)
    monkeypatch.delenv("GRADKATA_IMPL")
    # pytest reads the ini value, from whichever configuration file it finds.
    (kata / "pytest.ini").write_text("[pytest]\ngradkata_impl = mine\n")
    impl = progress.resolve_impl(None, kata)
    assert (impl.folder, impl.source) == (mine.resolve(), "the ini value gradkata_impl")
    assert impl.inifile == str(kata / "pytest.ini")
    (kata / "pytest.ini").write_text("[pytest]\n")
    assert progress.resolve_impl(None, kata).source == "the default"
    (kata / "pytest.ini").unlink()
    (kata / "pyproject.toml").write_text("not [valid toml")
    with pytest.raises(progress.BadImpl, match="pytest could not read the kata's configuration"):
        progress.resolve_impl(None, kata)


def test_the_ini_value_is_read_even_when_addopts_needs_another_plugin(kata):
    # The configuration is first read with gradkata's entry alone; an option of
    # pytest-timeout in addopts makes that fail, and pytest reads it again with all.
    (kata / "pytest.ini").write_text("[pytest]\naddopts = --timeout=5\n"
                                     "gradkata_impl = solutions\n")
    impl = progress.resolve_impl(None, kata)
    assert (impl.folder, impl.inifile) == ((kata / "solutions").resolve(),
                                           str(kata / "pytest.ini"))


def test_a_run_that_cannot_grade_says_why(kata, monkeypatch):
    impl = progress.resolve_impl("exercises", kata)
    empty = progress.run_suite(kata, impl, ["single_neuron"])  # no graded test file copied
    assert empty.ok and empty.results == [] and empty.problem is None
    (kata / "tests" / "test_single_neuron.py").write_text("def test_(:\n")
    broken = progress.run_suite(kata, impl, ["single_neuron"])
    assert broken.problem is not None and "could not run" in broken.problem
    assert "SyntaxError" in broken.problem  # why the file could not be collected
    monkeypatch.setattr(progress, "OVERALL_SECONDS", 0.05)
    late = progress.run_suite(kata, impl, ["single_neuron"])
    assert late.problem is not None and "still running after" in late.problem


def test_a_save_grades_again_the_saved_exercise_and_those_that_import_it(tmp_path):
    for name in catalog.NAMES:
        (tmp_path / f"{name}.py").write_text("x = 1\n")
    (tmp_path / "vectorized.py").write_text("from single_neuron import x\n")
    (tmp_path / "learning_rate.py").write_text("from . import vectorized\n")
    (tmp_path / "gradient_check.py").write_text("def broken(:\n")  # read, never run
    saved = [tmp_path / "single_neuron.py"]
    assert progress.affected_exercises(tmp_path, saved) == [
        "single_neuron", "vectorized", "learning_rate"]
    assert progress.affected_exercises(tmp_path, [tmp_path / "loop_gradients.py"]) == [
        "loop_gradients"]
    # A helper module may be used by any exercise: everything is graded again.
    assert progress.affected_exercises(tmp_path, [tmp_path / "helpers.py"]) is None


def test_a_partial_check_keeps_the_other_exercises_results(kata):
    impl = progress.resolve_impl("exercises", kata)

    def result(exercise: str, status: str) -> scoring.TestResult:
        return scoring.TestResult(f"tests/test_{exercise}.py::t", "t", exercise, 1.0, status)

    before = progress.Run(impl, list(catalog.NAMES), [result("single_neuron", "failed"),
                                                       result("vectorized", "passed")])
    fresh = progress.Run(impl, ["single_neuron"], [result("single_neuron", "passed")])
    after = before.updated(fresh)
    assert after.names == list(catalog.NAMES)
    assert [(r.exercise, r.status) for r in after.results] == [("vectorized", "passed"),
                                                               ("single_neuron", "passed")]


def test_without_fork_a_warm_check_runs_in_a_fresh_interpreter_with_the_same_results(
        tmp_path, monkeypatch):
    from gradkata import runner

    project = make_project(tmp_path, graded=["single_neuron"])
    impl = progress.resolve_impl("exercises", project)
    forked = progress.run_suite(project, impl, ["single_neuron"], warm=True)
    monkeypatch.setattr(runner, "can_fork", lambda: False)
    monkeypatch.setattr(runner, "_contexts", {})
    spawned = progress.run_suite(project, impl, ["single_neuron"], warm=True)
    assert runner._contexts[False].get_start_method() == "spawn"
    assert forked.ok and spawned.ok and forked.results
    assert ([(r.nodeid, r.status, r.message) for r in forked.results]
            == [(r.nodeid, r.status, r.message) for r in spawned.results])


# --------------------------------------------------------------------------
# plots, with the reference functions standing in for the learner's


class Standin:
    """A function called like a LearnerFunction (it has a last_call), run in this process."""

    def __init__(self, function: Callable) -> None:
        self.function = function
        self.last_call = f"{function.__name__}(...)"

    def __call__(self, *args: object) -> object:
        return self.function(*args)


def reference(name: str) -> object:
    return plots._reference(ROOT, name)


def test_a_missing_reference_only_costs_the_parameter_names(tmp_path):
    assert plots._reference(tmp_path, "single_neuron") is None


@pytest.mark.parametrize("exercise", list(plots.LOSS_SETUPS))
def test_each_loss_plot_descends_and_never_beats_the_least_squares_optimum(exercise):
    setup = plots.LOSS_SETUPS[exercise]()
    curve = plots.train(setup, Standin(getattr(reference(exercise), setup.function)))
    assert curve.diverged_at is None and len(curve.losses) == setup.epochs + 1
    assert curve.losses[-1] < curve.losses[0]
    # The optimum is the smallest loss any parameters can have: a lower bound.
    assert min(curve.losses) >= curve.optimum - 1e-12


def test_loss_spanning_orders_of_magnitude_is_drawn_on_a_log_axis():
    assert plots.log_scale([67.5, 1.0, 1e-7])
    assert not plots.log_scale([1.0, 0.5, 0.2])
    assert not plots.log_scale([0.0, 0.0])


def test_the_critical_rate_splits_the_three_learning_rates_as_the_story_tells():
    # x = 1..4 with a bias: H = [[15, 5], [5, 2]], lambda_max = 16.66..., 2/lambda_max = 0.12
    critical = plots.critical_rate()
    assert critical == pytest.approx(2 / ((17 + np.sqrt(13 ** 2 + 4 * 25)) / 2))
    assert 0.01 <= critical / 2 < 0.1 < critical < 1


def test_a_step_that_climbs_is_cut_off_when_the_loss_blows_up():
    setup = plots.LOSS_SETUPS["vectorized"]()
    ref = reference("vectorized")

    def uphill(y, y_hat, w, b, x, lr):
        w_next, b_next = ref.backward(y, y_hat, w, b, x, lr)
        return w + 1e3 * (w - w_next), b + 1e3 * (b - b_next)

    curve = plots.train(setup, Standin(uphill))
    assert curve.diverged_at is not None and curve.diverged_at < setup.epochs


def test_the_frozen_epoch_is_the_first_after_which_w_never_changes():
    assert plots.frozen_epoch([45.0, -654.0, 12755.0, 12755.0, 12755.0]) == 3
    assert plots.frozen_epoch([0.45, 0.82, 1.13]) is None
    assert plots.frozen_epoch([3.0, 3.0]) == 1
    assert plots.frozen_epoch([]) is None


@pytest.mark.parametrize("returned", [3.0, [1.0], [np.zeros(2), np.zeros(1)], ["a", "b"]])
def test_a_malformed_return_is_a_message_not_a_crash(returned):
    with pytest.raises(plots.PlotProblem, match="but the plot needs"):
        plots.weight_history(Standin(lambda *args: returned), 0.1, epochs=2)
    setup = plots.LOSS_SETUPS["single_neuron"]()
    with pytest.raises(plots.PlotProblem, match="but the plot needs"):
        plots.train(setup, Standin(lambda *args: returned))


def test_the_figure_is_shown_in_a_window_only_when_one_can_open(monkeypatch, tmp_path):
    import matplotlib

    monkeypatch.setenv("MPLBACKEND", "agg")
    assert not plots.can_show()
    monkeypatch.delenv("MPLBACKEND")
    monkeypatch.setattr(plots.sys, "platform", "linux")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert not plots.can_show()
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setattr(matplotlib, "get_backend", lambda: "agg")
    assert not plots.can_show()
    monkeypatch.setattr(matplotlib, "get_backend", lambda: "TkAgg")
    assert plots.can_show()

    def no_toolkit() -> str:
        raise ImportError("no tkinter")

    monkeypatch.setattr(matplotlib, "get_backend", no_toolkit)
    assert not plots.can_show()

    import matplotlib.pyplot as plt

    shown = []
    monkeypatch.setattr(plots, "can_show", lambda: True)
    monkeypatch.setattr(plt, "show", lambda: shown.append(True))
    assert plots.render(lambda fig: fig.subplots(), (2, 2), None, "unused.png") is None
    assert shown == [True]
    plt.close("all")
