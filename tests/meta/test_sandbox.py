"""The sandbox that runs learner code: what it keeps out of the judge, and what it reports."""

import multiprocessing
import os
import pickle
import re
import signal
import threading
import time

import numpy as np
import pytest

from gradkata import sandbox
from gradkata.learner import LearnerModule
from gradkata.probes import Probe
from gradkata.sandbox import (
    BadReturn,
    ImportFailed,
    LearnerCrash,
    LearnerError,
    LearnerTimeout,
    NotStarted,
    Sandbox,
)
from gradkata.verdict import Mistake

MODULE = '''
import os, sys
import numpy as np

def add(a, b):
    return a + b

def stub():
    raise NotImplementedError("m.stub: not started")

def spin():
    while True:
        pass

def leave():
    os._exit(0)

def bump(w):
    w += 1
    return w

def twice(f, x):
    print("calling f")
    return 2 * f(x)

def chatter():
    print("x" * 1_000_000)
    return 1

def sneaky():
    class Evil(float):
        pass
    return Evil(1.0)

def reference():
    import solutions  # noqa: F401

def grader():
    import gradkata  # noqa: F401

def read_line():
    return input()

def ask_terabytes():
    return np.ones((1 << 20, 1 << 20)).sum()
'''


@pytest.fixture(scope="module")
def box(tmp_path_factory):
    folder = tmp_path_factory.mktemp("learner")
    (folder / "m.py").write_text(MODULE)
    sb = Sandbox(str(folder), "m")
    yield sb
    sb.close(graceful=True)


def call(sb, name, *args):
    result, changed = sb.call(name, args, {}, f"running m.{name}")
    return result, changed


def test_values_and_arrays_come_back(box):
    result, changed = call(box, "add", 1, np.ones(2))
    assert np.array_equal(result, [2.0, 2.0]) and changed == {}


def test_a_stub_is_not_started(box):
    with pytest.raises(NotStarted, match="not written yet"):
        call(box, "stub")


def test_a_missing_function_is_not_started(box):
    with pytest.raises(NotStarted, match="has no function nothing_here"):
        call(box, "nothing_here")


def test_a_changed_argument_is_reported(box):
    _, changed = call(box, "bump", np.zeros(3))
    assert np.array_equal(changed[0], np.ones(3))


def test_callables_stay_in_the_judge_and_are_called_back(box):
    seen = []

    def f(x):
        seen.append(x)
        return x + 1

    result, _ = call(box, "twice", f, 3.0)
    assert result == 8.0 and seen == [3.0]
    assert "calling f" in box.take_output()


def test_what_the_code_prints_is_cut(box):
    call(box, "chatter")
    text = box.take_output()
    assert len(text) < 2 * sandbox.OUTPUT_LIMIT and "more characters cut" in text


def test_objects_of_the_learners_own_classes_never_reach_the_judge(box):
    with pytest.raises(BadReturn):
        call(box, "sneaky")


def test_a_crafted_pickle_is_refused():
    payload = pickle.dumps(os.system)  # what a hostile worker could send
    with pytest.raises(pickle.UnpicklingError):
        sandbox.safe_loads(payload)
    assert np.array_equal(sandbox.safe_loads(pickle.dumps(np.eye(2))), np.eye(2))


@pytest.mark.parametrize("name, words", [("reference", "'solutions' cannot be imported"),
                                         ("grader", "'gradkata' cannot be imported"),
                                         ("read_line", "EOFError"),
                                         ("ask_terabytes", "MemoryError")])
def test_the_worker_is_fenced(box, name, words):
    with pytest.raises(LearnerError, match=words):
        call(box, name)


def test_ending_the_process_is_a_crash_and_the_next_call_gets_a_new_worker(box):
    with pytest.raises(LearnerCrash, match="ended the Python process"):
        call(box, "leave")
    assert call(box, "add", 1, 2)[0] == 3


def test_a_loop_that_never_ends_is_stopped_and_not_run_again(box):
    sandbox.set_deadline(time.monotonic() + 0.5, 0.5)
    try:
        started = time.monotonic()
        with pytest.raises(LearnerTimeout, match="still running after 0.5 s"):
            call(box, "spin")
        assert time.monotonic() - started < 5
        with pytest.raises(LearnerTimeout, match="did not finish in an earlier test"):
            call(box, "spin")
    finally:
        sandbox.set_deadline(None)
    assert call(box, "add", 2, 2)[0] == 4


def test_a_module_that_cannot_be_imported_says_why(tmp_path):
    (tmp_path / "broken.py").write_text("def f(:\n    pass\n")
    sb = Sandbox(str(tmp_path), "broken")
    for _ in range(2):
        with pytest.raises(ImportFailed, match="could not be imported"):
            sb.call("f", (), {}, "running broken.f")
    sb.close()


def test_a_missing_module_is_not_started(tmp_path):
    with pytest.raises(NotStarted, match="there is no absent.py"):
        Sandbox(str(tmp_path), "absent").call("f", (), {}, "running absent.f")


def test_the_learner_module_names_a_modified_argument(tmp_path):
    (tmp_path / "m.py").write_text(MODULE)

    class Ref:
        @staticmethod
        def bump(w):
            """The reference's signature names the parameter."""

    module = LearnerModule(str(tmp_path), "m", Ref)
    try:
        with pytest.raises(Mistake, match="caller's `w` was different"):
            module.bump(np.zeros(2))
        assert "m.bump(w=array([0.0, 0.0]))" in module.bump.last_call
    finally:
        module.close()


EXTRA = '''
import os, signal
from fractions import Fraction

def segfault():
    import ctypes
    ctypes.string_at(0)  # a real crash: reading address 0

def killed():
    import time
    time.sleep(30)  # killed from outside meanwhile, as the kernel kills on running out of memory

def three():
    os._exit(3)

def fraction():
    return Fraction(1, 2)

def use(f):
    return f(1)
'''


@pytest.fixture()
def extra(tmp_path):
    (tmp_path / "x.py").write_text(EXTRA)
    sb = Sandbox(str(tmp_path), "x")
    yield sb
    sb.close()


@pytest.mark.parametrize("name, words", [("segfault", "SIGSEGV (a crash: very deep recursion?)"),
                                         ("killed", "SIGKILL (out of memory?)"),
                                         ("three", "exit status 3")])
def test_how_a_worker_ended_is_told(extra, name, words):
    # (A jailed worker is its PID namespace's init: a signal it sends itself is
    # ignored, so the signal comes from outside, as it would from the kernel.)
    if name == "killed":
        extra.launch()
        timer = threading.Timer(0.5, os.kill, (extra._proc.pid, signal.SIGKILL))
        timer.start()
    try:
        with pytest.raises(LearnerCrash, match=re.escape(words)):
            extra.call(name, (), {}, f"running x.{name}")
    finally:
        if name == "killed":
            timer.cancel()


def test_a_value_of_a_class_outside_the_whitelist_is_refused(extra):
    with pytest.raises(BadReturn, match="plain numpy arrays"):
        extra.call("fraction", (), {}, "running x.fraction")


def test_an_error_in_a_judge_callback_is_raised_in_the_judge(extra):
    def f(x):
        raise ZeroDivisionError("judge side")

    with pytest.raises(ZeroDivisionError, match="judge side"):
        extra.call("use", (f,), {}, "running x.use")


def test_a_module_that_loops_at_import_is_stopped_once(tmp_path):
    (tmp_path / "slow.py").write_text("while True:\n    pass\n")
    sb = Sandbox(str(tmp_path), "slow")
    sandbox.set_deadline(time.monotonic() + 0.5, 0.5)
    try:
        with pytest.raises(LearnerTimeout, match="top level of the file"):
            sb.call("f", (), {}, "running slow.f")
        started = time.monotonic()
        with pytest.raises(LearnerTimeout):
            sb.call("f", (), {}, "running slow.f")
        assert time.monotonic() - started < 0.2  # remembered, not waited for again
    finally:
        sandbox.set_deadline(None)
        sb.close()


# --------------------------------------------------------------------------
# Arrays on the wire, and chains of calls


@pytest.mark.parametrize("value", [
    np.arange(6.0).reshape(2, 3),
    np.arange(6.0).reshape(2, 3).T,  # not contiguous
    np.array(2.5),  # 0-d
    np.zeros((0, 3), dtype=np.float32),
    np.array([True, False]),
    np.array([1 + 2j]),
    np.array(["a", "bc"]),
    np.float32(1.5),
    np.int64(-3),
    np.bool_(True),
])
def test_arrays_and_numpy_scalars_survive_the_wire_unchanged(value):
    a, b = multiprocessing.Pipe()
    sandbox._send(a, sandbox.Missing(value))  # any message: its fields travel as they are
    back = sandbox._decode(sandbox.safe_loads(b.recv_bytes()), sandbox._FROM_WORKER).function
    a.close()
    b.close()
    assert type(back) is type(value) and back.dtype == value.dtype
    assert np.shape(back) == np.shape(value) and np.array_equal(back, value)
    if isinstance(back, np.ndarray):
        assert back.flags.writeable


def test_an_object_array_of_a_class_outside_the_whitelist_is_refused():
    from fractions import Fraction

    with pytest.raises(pickle.UnpicklingError, match="Fraction"):
        sandbox.safe_loads(pickle.dumps(np.array([Fraction(1, 2)], dtype=object)))


def test_feeding_rules_build_the_next_arguments():
    x, w, b = np.ones((2, 3)), np.full((3, 1), 2.0), np.array([[0.5]])
    fed = sandbox.feed_arguments([(1, ("affine", 0, 0, 1)), (2, ("copy", 0)), (3, ("number", 1))],
                                 (x, None, None, None), (w, b))
    assert np.array_equal(fed[1], [[6.5], [6.5]]) and fed[2] is w and fed[3] == 0.5
    assert sandbox.feed_arguments([(0, ("copy", None))], (1,), "all")[0] == "all"
    for bad in (True, np.ones(2), "1"):
        with pytest.raises(TypeError):
            sandbox.single_number(bad)
    with pytest.raises(ValueError, match="unknown feed rule"):
        sandbox.feed_arguments([(0, ("guess", 0))], (1,), (1,))


STEPS = '''
import numpy as np
calls = []

def step(w, b, lr):
    calls.append(len(calls))
    return w - lr, b + 1.0

def stumble(w, b, lr):
    calls.append(len(calls))
    if len(calls) == 3:
        raise ValueError("third call")
    return w - lr, b

def meddle(w, b, lr):
    calls.append(len(calls))
    if len(calls) == 2:
        w[0] = 9.0
    return w - lr, b

kept = np.zeros(1)

def reuse(w, b, lr):
    kept[0] += 1
    return kept, b

def derail(w, b, lr):
    calls.append(len(calls))
    return (w - lr, "b") if len(calls) == 2 else (w - lr, b)
'''


class StepRef:
    """The signature the messages use for the functions of STEPS."""

    @staticmethod
    def step(w, b, lr):
        """w, b, lr"""


@pytest.fixture()
def steps(tmp_path):
    (tmp_path / "s.py").write_text(STEPS)
    module = LearnerModule(str(tmp_path), "s", StepRef)
    yield module
    module.close()


FEED = [(0, ("copy", 0)), (1, ("number", 1))]


def test_a_chain_gives_what_calls_one_by_one_would(steps):
    w, b = np.array([1.0, 2.0]), 0.0
    chained = list(steps.step.chain(4, w, b, 0.5, feed=FEED))
    for got in chained:
        w, b = steps.step(w, b, 0.5)
        assert np.array_equal(got[0], w) and got[1] == b
    assert len(chained) == 4 and list(steps.step.chain(0, w, b, 0.5, feed=FEED)) == []


def test_each_result_is_kept_as_it_was_returned(steps):
    """A function that returns the same array each time, changed: each result as it was."""
    chained = [got[0][0] for got in steps.reuse.chain(3, np.zeros(1), 0.0, 0.5, feed=FEED)]
    each = [got[0][0] for got in steps.reuse.each([(np.zeros(1), 0.0, 0.5)] * 3)]
    assert chained == [1.0, 2.0, 3.0] and each == [4.0, 5.0, 6.0]


def test_a_chain_names_the_step_that_raised(steps):
    seen = []
    with pytest.raises(LearnerError, match=r"stumble\(array\(\[0\.0\]\), 0, 0\.5\)"):
        for got in steps.stumble.chain(5, np.array([1.0]), 0.0, 0.5, feed=FEED):
            seen.append(got)
    assert len(seen) == 2  # the two results before the third call raised


def test_a_chain_names_the_step_that_changed_its_input(steps):
    with pytest.raises(Mistake, match="caller's `argument 1` was different") as info:
        list(steps.meddle.chain(5, np.array([1.0]), 0.0, 0.5, feed=FEED))
    assert "meddle(array([0.5]), 0, 0.5)" in str(info.value)


def test_a_chain_says_when_a_result_cannot_be_fed_on(steps):
    results = steps.derail.chain(5, np.array([1.0]), 0.0, 0.5, feed=FEED)
    assert next(results)[1] == 0.0
    assert next(results)[1] == "b"  # the tests look at it first
    with pytest.raises(Mistake, match="cannot be passed on to the next step"):
        next(results)


def test_each_gives_what_calls_one_by_one_would(steps):
    calls = [(np.array([1.0, 2.0]), 0.0, 0.5), (np.array([3.0]), 1.0, 0.25)]
    got = list(steps.step.each(calls))
    for (w, b), args in zip(got, calls):
        one = steps.step(*args)
        assert np.array_equal(w, one[0]) and b == one[1]
    assert len(got) == 2 and list(steps.step.each([])) == []


def test_each_names_the_call_that_raised_after_the_results_before_it(steps):
    seen = []
    calls = [(np.array([float(i)]), 0.0, 0.5) for i in range(5)]
    with pytest.raises(LearnerError, match=r"stumble\(array\(\[2\.0\]\), 0, 0\.5\)"):
        for got in steps.stumble.each(calls):
            seen.append(got)
    assert len(seen) == 2


def test_each_names_the_call_that_changed_its_input(steps):
    results = steps.meddle.each([(np.array([1.0]), 0.0, 0.5), (np.array([4.0]), 0.0, 0.5)])
    assert next(results)[0][0] == 0.5
    with pytest.raises(Mistake, match="caller's `argument 1` was different") as info:
        next(results)
    assert "meddle(array([4.0]), 0, 0.5)" in str(info.value)


def test_each_passes_probes_but_not_the_judges_functions(extra):
    f = Probe("sum_of_squares")
    assert [r for r, _ in extra.each("use", [(f,), (f,)], "running x.use")[0]] == [1.0, 1.0]
    with pytest.raises(TypeError, match="not functions"):
        extra.each("use", [(len,)], "running x.use")


def test_a_recording_probe_brings_back_every_point_it_was_called_at(extra):
    f = Probe("sum_of_squares", record=True)
    result, _ = extra.call("use", (f,), {}, "running x.use")  # use(f) = f(1)
    assert result == 1.0 and len(f.points) == 1 and f.points[0] == 1
    assert f.points[0].dtype.kind == "i"  # as the learner's code passed it
    with pytest.raises(TypeError, match="not functions"):
        extra.each("use", [(f,)], "running x.use")


def test_a_probe_runs_in_the_worker_not_through_the_judge(extra, monkeypatch):
    f = Probe("quadratic", a=np.eye(1), b=np.array([2.0]))
    assert f(np.array([1.0])) == 2.5 and f.__name__ == "quadratic"
    assert Probe("scaled_exp", c=2.0).__name__ == "scaled_exp(c=2.0)"

    def no_callbacks(*args):
        raise AssertionError("the worker called back")

    monkeypatch.setattr(Probe, "__call__", no_callbacks)  # the judge's copy is never called
    result, _ = extra.call("use", (f,), {}, "running x.use")  # use(f) = f(1) = 0.5 + 2
    assert result == 2.5


def test_only_functions_of_the_probes_module_are_probes():
    with pytest.raises(ValueError, match="no function 'eval'"):
        Probe("eval")
    with pytest.raises(ValueError, match="no function 'Probe'"):
        Probe("Probe")


def test_a_worker_cannot_send_what_only_the_judge_sends():
    forged = ("Call", "f", (), {}, (), {})
    with pytest.raises(ValueError, match="no known kind"):
        sandbox._decode(forged, sandbox._FROM_WORKER)
    with pytest.raises(ValueError, match="wrong length"):
        sandbox._decode(("Return", 1.0), sandbox._FROM_WORKER)
    assert sandbox._decode(("Missing", "f"), sandbox._FROM_WORKER) == sandbox.Missing("f")


@pytest.mark.parametrize("graceful, code", [(True, 0), (False, -9)])
def test_closing_stops_the_worker(tmp_path, graceful, code):
    """An idle worker asked to stop exits by itself; one closed otherwise is killed."""
    (tmp_path / "m.py").write_text(MODULE)
    sb = Sandbox(str(tmp_path), "m")
    assert call(sb, "add", 2, 3)[0] == 5
    proc = sb._proc
    sb.close(graceful=graceful)
    proc.join(5)  # not reap(), which would kill what close() left running
    assert proc.exitcode == code


def test_a_worker_launched_and_never_called_is_stopped(tmp_path):
    (tmp_path / "m.py").write_text(MODULE)
    sb = Sandbox(str(tmp_path), "m")
    sb.launch()
    proc = sb._proc
    sb.close(graceful=True)  # not ready yet, or never asked: killed
    proc.join(5)
    assert proc.exitcode is not None


JUDGE_SCRIPT = """
import sys
from gradkata.sandbox import Sandbox

with open(sys.argv[2], "a") as marks:  # once for each process that runs this file
    print("ran", file=marks)
if __name__ == "__main__":
    box = Sandbox(sys.argv[1], "w")
    print(box.call("f", (), {}, "running w.f")[0])
    box.close(graceful=True)
"""


def test_a_worker_does_not_run_the_judges_script_again(tmp_path):
    """multiprocessing would run the judge's __main__ (pytest's script) again in each worker."""
    import subprocess
    import sys

    (tmp_path / "w.py").write_text("def f():\n    return 7\n")
    (tmp_path / "judge.py").write_text(JUDGE_SCRIPT)
    marks = tmp_path / "marks.txt"
    done = subprocess.run([sys.executable, str(tmp_path / "judge.py"), str(tmp_path), str(marks)],
                          capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "7", done.stderr
    assert marks.read_text().split() == ["ran"]


# --------------------------------------------------------------------------
# What a Raise says of changed arguments, and a Return of a result that is an argument

KEEPING = '''
def same(w, k):
    return w

def view(w):
    return w[1:]

def first_kept(ws):
    return [ws[0], ws[1] * 2]

def fresh(w, k):
    return w * 1, k

def nudge_then_raise(x):
    x[0] += 1
    raise ValueError("f failed")

def nudge_restore_then_raise(x):
    old = x[0]
    try:
        x[0] += 1
        raise ValueError("f failed")
    finally:
        x[0] = old
'''


@pytest.fixture(scope="module")
def keeping(tmp_path_factory):
    folder = tmp_path_factory.mktemp("keeping")
    (folder / "k.py").write_text(KEEPING)
    sb = Sandbox(str(folder), "k")
    yield sb
    sb.close(graceful=True)


@pytest.mark.parametrize("name, args, shared", [
    ("same", (np.zeros(3), 1.0), [(None, 0)]),
    ("same", ([1.0, 2.0], 1.0), [(None, 0)]),
    ("view", (np.zeros(3),), [(None, 0)]),
    ("first_kept", ([np.zeros(2), np.ones(2)],), [(0, 0)]),
    ("fresh", (np.zeros(3), 2.0), []),
    ("same", (2.0, 1.0), []),  # a number is no object the caller could change
])
def test_a_return_says_which_parts_of_the_result_are_arguments(keeping, name, args, shared):
    keeping.call(name, args, {}, f"running k.{name}")
    assert keeping.shared == shared


def test_a_raise_carries_the_arguments_changed_by_then(keeping):
    with pytest.raises(LearnerError) as raised:
        keeping.call("nudge_then_raise", (np.zeros(3),), {}, "running k.nudge_then_raise")
    assert raised.value.exc_type == "ValueError"
    assert np.array_equal(raised.value.changed[0], [1.0, 0.0, 0.0])
    with pytest.raises(LearnerError) as raised:
        keeping.call("nudge_restore_then_raise", (np.zeros(3),), {}, "running k")
    assert raised.value.changed == {}


def test_the_learner_is_told_of_an_input_left_changed_by_a_raise(keeping):
    learner = LearnerModule(keeping.folder, "k", sandbox=keeping)
    with pytest.raises(Mistake, match=r"(?s)It raised ValueError.*changed its input.*before "
                                      r"the exception.*f failed"):
        learner.nudge_then_raise(np.zeros(3))
    with pytest.raises(LearnerError):  # put back: only the raise itself is reported
        learner.nudge_restore_then_raise(np.zeros(3))


def test_the_learner_is_told_of_a_result_that_is_its_own_argument(keeping):
    learner = LearnerModule(keeping.folder, "k", sandbox=keeping)
    with pytest.raises(Mistake, match=r"It returned the caller's own `argument 1`"):
        learner.same(np.zeros(3), 1.0)
    with pytest.raises(Mistake, match=r"Item 0 of what it returned was the caller's own"):
        learner.first_kept([np.zeros(2), np.ones(2)])
    assert learner.fresh(np.zeros(3), 2.0)[1] == 2.0
