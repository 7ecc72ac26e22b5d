"""The sandbox that runs learner code: what it keeps out of the judge, and what it reports."""

import os
import pickle
import re
import signal
import time

import numpy as np
import pytest

from gradkata import sandbox
from gradkata.learner import LearnerModule
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
    os.kill(os.getpid(), signal.SIGSEGV)

def killed():
    os.kill(os.getpid(), signal.SIGKILL)

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
    with pytest.raises(LearnerCrash, match=re.escape(words)):
        extra.call(name, (), {}, f"running x.{name}")


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
    back = sandbox.unpack(pickle.loads(pickle.dumps(sandbox.pack(value))))
    assert type(back) is type(value) and back.dtype == value.dtype
    assert np.shape(back) == np.shape(value) and np.array_equal(back, value)
    if isinstance(back, np.ndarray):
        assert back.flags.writeable


def test_containers_are_packed_through_and_other_values_left_alone():
    value = ([np.ones(2), 1.5], {"w": np.zeros(1)}, "text", None, 3)
    back = sandbox.unpack(sandbox.pack(value))
    assert isinstance(back, tuple) and isinstance(back[0], list) and back[2:] == ("text", None, 3)
    assert np.array_equal(back[0][0], np.ones(2)) and np.array_equal(back[1]["w"], np.zeros(1))


@pytest.mark.parametrize("packed", [
    (sandbox._ARRAY, "|O", (1,), b"\0" * 8),  # an object array would run code
    (sandbox._SCALAR, "<f8", b"\0" * 16),  # two numbers for one scalar
])
def test_forged_arrays_are_refused(packed):
    with pytest.raises(pickle.UnpicklingError):
        sandbox.unpack(packed)


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


def test_each_passes_formulas_but_not_the_judges_functions(extra):
    f = sandbox.Formula("float(np.sum(z))")
    assert [r for r, _ in extra.each("use", [(f,), (f,)], "running x.use")[0]] == [1.0, 1.0]
    with pytest.raises(TypeError, match="not functions"):
        extra.each("use", [(len,)], "running x.use")


def test_a_recording_brings_back_every_point_it_was_called_at(extra):
    f = sandbox.Recording("float(np.sum(z))")
    result, _ = extra.call("use", (f,), {}, "running x.use")  # use(f) = f(1)
    assert result == 1.0 and len(f.points) == 1 and f.points[0] == 1
    assert f.points[0].dtype.kind == "i"  # as the learner's code passed it
    with pytest.raises(TypeError, match="not functions"):
        extra.each("use", [(f,)], "running x.use")


def test_a_formula_runs_in_the_worker_and_reads_as_a_lambda(extra):
    f = sandbox.Formula("float(np.sum(a * z**2))", a=np.array([1.0, 2.0]))
    assert f(np.array([1.0, 1.0])) == 3.0 and f.__name__ == "(lambda z: float(np.sum(a * z**2)))"
    result, _ = extra.call("use", (f,), {}, "running x.use")  # use(f) = f(1): no callback
    assert result == 3.0


def test_a_formula_in_a_list_is_not_turned_into_a_function():
    # Only top-level arguments become formulas, and only in the worker; the judge's
    # unpack never builds one from what a worker sends.
    packed = (sandbox._FORMULA, "z", {})
    assert sandbox.unpack(packed) == packed


def test_a_worker_launched_in_the_background_is_waited_for(tmp_path, monkeypatch):
    launched = []
    launch = Sandbox.launch

    def noting_launch(self: Sandbox) -> None:
        launch(self)
        if self._proc is not None and self._proc not in launched:
            launched.append(self._proc)

    monkeypatch.setattr(Sandbox, "launch", noting_launch)
    (tmp_path / "m.py").write_text(MODULE)
    sb = Sandbox(str(tmp_path), "m")
    sb.launch_soon()
    assert call(sb, "add", 2, 3)[0] == 5  # the first call waits for the launch
    sb.close(graceful=True)
    sandbox.reap()
    assert launched[0].exitcode == 0  # asked to stop, it ended on its own
    other = Sandbox(str(tmp_path), "m")
    other.launch_soon()
    other.close()  # closing before any call still stops the launched worker
    sandbox.reap()
    assert len(launched) == 2 and other._proc is None
    # Stopped by the close (killed, as it was not asked to exit), and waited for by
    # reap: not left to end by itself when it notices its pipe is gone.
    assert launched[1].exitcode == -signal.SIGKILL


@pytest.mark.parametrize("use_poll", [True, False])
def test_the_waiter_sees_data_with_or_without_poll(use_poll):
    import multiprocessing

    a, b = multiprocessing.Pipe()
    waiter = sandbox._Waiter(a)
    if not use_poll:
        waiter._poll = None  # as where select.poll does not exist (Windows)
    started = time.monotonic()
    assert not waiter.wait(0.05)  # nothing there: waits, then gives up
    assert time.monotonic() - started >= 0.04
    b.send_bytes(b"x")
    assert waiter.wait(1.0) and waiter.wait(None)  # there: at once, spinning or not
    a.close()
    b.close()
