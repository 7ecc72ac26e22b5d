"""The sandbox that runs learner code: what it keeps out of the judge, and what it reports."""

import os
import pickle
import re
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
