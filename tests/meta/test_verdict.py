"""gradkata.verdict: what a learner is told when an answer is wrong."""

import numpy as np
import pytest

from gradkata.verdict import (
    Mistake,
    constant_ratio,
    exception_note,
    expect_close,
    expect_true,
    modified,
    show,
)


def message(got, want, **kw):
    kw.setdefault("call", "m.f(x=1)")
    with pytest.raises(Mistake) as info:
        expect_close(got, want, **kw)
    return info.value.message


def test_a_match_within_tolerance_passes():
    expect_close(np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-12]), call="m.f()")
    expect_close((1.0, np.ones(2)), [1.0, np.ones(2)], call="m.f()")


@pytest.mark.parametrize("factor, words", [(2.0, "exactly twice"), (0.5, "exactly half"),
                                           (-1.0, "sign flipped"), (3.0, "exactly 3 times")])
def test_a_constant_factor_is_named(factor, words):
    want = np.array([[0.5, -1.5], [2.0, 4.0]])
    text = message(factor * want, want)
    assert text.startswith("Called m.f(x=1).")
    assert words in text and "but the tests expected" in text


def test_only_a_step_is_told_to_go_downhill():
    want = np.array([0.5, -1.5])
    assert "downhill" not in message(-want, want)
    start = np.array([1.0, 1.0])
    assert "downhill" in message(start + 0.1 * want, start - 0.1 * want, start=start, lr=0.1)


def test_steps_are_read_from_the_starting_point():
    start = np.array([1.0, 1.0])
    want = start - 0.1 * np.array([2.0, -4.0])
    assert "twice" in message(start - 0.2 * np.array([2.0, -4.0]), want, start=start, lr=0.1)
    assert "learning rate was not used" in message(start - np.array([2.0, -4.0]), want,
                                                   start=start, lr=0.1)
    assert "Nothing moved" in message(start.copy(), want, start=start, lr=0.1)
    # Only b left where it was: b is named, not every parameter.
    pair = [(float(want[0]), 1.0), (float(want[0]), float(want[1]))]
    with pytest.raises(Mistake) as caught:
        expect_close(*pair, parts=("w_next", "b_next"), start=(1.0, 1.0), lr=0.1, call="f()")
    assert "b_next did not move" in caught.value.message
    assert "Nothing moved" not in caught.value.message
    assert "multiplied by the learning rate twice" in message(
        start - 0.01 * np.array([2.0, -4.0]), want, start=start, lr=0.1)
    # The gradient returned in place of the parameters, from a start at 0.
    zero = np.zeros(2)
    assert "the gradient itself" in message(np.array([2.0, -4.0]), zero - 0.1 * np.array(
        [2.0, -4.0]), start=zero, lr=0.1)


def test_a_dtype_is_named_only_when_its_precision_explains_the_difference():
    want = np.array([0.1, 0.2, 0.3])
    assert "changed dtype to float32" in message(want.astype(np.float32), want, rtol=1e-12)
    assert "float32" not in message(np.float32(2) * want.astype(np.float32), want).split(
        "expected")[-1]


def test_shapes_are_explained():
    assert "broadcast into an N x N table" in message(np.ones((3, 3)), np.ones((3, 1)))
    assert "transposed" in message(np.arange(6.0).reshape(2, 3), np.arange(6.0).reshape(2, 3).T)
    assert "return float(...)" in message(np.array([1.0]), 1.0)


def test_wrong_kinds_of_answer_are_named():
    assert "None (is there a `return` statement?)" in message(None, 1.0)
    assert "expected 2 values (w_next, b_next)" in message(np.ones(2), (1.0, 2.0),
                                                            parts=("w_next", "b_next"))
    assert "nan or inf" in message(np.array([np.nan, 1.0]), np.array([1.0, 1.0]))
    assert "dtype float64" in message(np.ones(2), np.ones(2, np.float32), dtype=np.float32)


def test_hints_and_custom_factors_are_added():
    text = message(10 * np.ones(2), np.ones(2), hint="Use the mean.",
                   factors={10.0: "You summed where the mean belongs."})
    assert text.endswith("Use the mean.") and "You summed" in text


def test_constant_ratio_needs_every_element_to_agree():
    assert constant_ratio([2.0, 4.0], [1.0, 2.0]) == pytest.approx(2.0)
    assert constant_ratio([2.0, 5.0], [1.0, 2.0]) is None
    assert constant_ratio([0.0, 0.0], [0.0, 0.0]) is None


def test_modified_allows_rounding_but_not_a_change():
    x = np.array([0.1, 0.7, 3.0])
    assert modified(x, (x + 1e-5) - 1e-5) is None
    assert "changed by" in modified(x, x + np.array([0, 1e-5, 0]))
    assert "shape changed" in modified(x, x[:2])
    assert "element [1]" in modified([x, x], [x, x * 2])
    assert modified([[1], [2]], [[1], [2]]) is None


def test_expect_true_and_show():
    expect_true(True, "never shown")
    with pytest.raises(Mistake, match="Called m.g"):
        expect_true(False, "it was false", call="m.g()")
    assert show(np.zeros(20)).startswith("<array of shape (20,)")
    assert show((1.5,)) == "(1.5,)" and show(np.float32(2)) == "2"


def test_a_transposed_square_step_and_an_unsummed_bias_are_named():
    w = np.zeros((3, 3))
    g = np.arange(9.0).reshape(3, 3)
    w = np.ones((3, 3))  # only the step is transposed, not the value
    text = message(w - 0.1 * g.T, w - 0.1 * g, start=w, lr=0.1)
    assert "step (the change from the starting value) is the expected one transposed" in text
    assert "value is the expected one transposed" in message(g.T, g)
    text = message(np.ones((7, 1)), np.ones((1, 1)))
    assert "7 rows where one was expected" in text and "another axis" in text


def test_a_factor_offers_only_the_causes_the_exercise_gives():
    want = np.array([0.5, -1.5])
    for factor in (2.0, 0.5, 1 / 13):
        text = message(factor * want, want)
        assert "Possible causes" not in text and " N " not in text and "mean" not in text
    assert "Possible causes: a 2 too many." in message(2 * want, want, causes={"twice":
                                                                            "a 2 too many."})
    text = message(want / 13, want, causes={"factor": "N divided twice."})
    assert "exactly 1/13 (0.0769231) times" in text and "Possible causes: N divided twice." in text
    assert "exactly 3 times" in message(3 * want, want)
    assert "exactly 1.23457 times" in message(1.234567 * want, want)


def test_a_call_that_does_not_fit_the_signature_is_still_described(tmp_path):
    from gradkata.learner import LearnerModule

    (tmp_path / "m.py").write_text("def f(*args):\n    return len(args)\n")

    class Ref:
        @staticmethod
        def f(a):
            """One parameter: a call with two cannot be bound to it."""

    module = LearnerModule(str(tmp_path), "m", Ref)
    try:
        assert module.f(1, 2) == 2
        assert module.f.last_call == "m.f(1, 2)"
    finally:
        module.close()


def test_an_exception_whose_words_point_away_from_the_cause_gets_the_kata_s_note():
    numpy_words = ("The truth value of an array with more than one element is ambiguous. "
                   "Use a.any() or a.all()")
    assert "elementwise" in exception_note("ValueError", numpy_words).lower()
    assert exception_note("TypeError", numpy_words) == ""
    assert exception_note("ValueError", "operands could not be broadcast") == ""
    for words in ("cannot access local variable 'y_hat' where it is not associated with a value",
                  "local variable 'y_hat' referenced before assignment"):
        assert "hides" in exception_note("UnboundLocalError", words)
    assert exception_note("NameError", "name 'y_hat' is not defined") == ""


def test_only_a_function_that_perturbs_is_offered_a_perturbation_left_behind(tmp_path):
    from gradkata.learner import LearnerModule

    body = "    x[0] += 1.0\n    return 0.0\n"
    (tmp_path / "m.py").write_text(f"def y_hat(x):\n{body}\n\ndef numerical_gradient(x):\n{body}")

    class Ref:
        @staticmethod
        def y_hat(x):
            """A prediction."""

        @staticmethod
        def numerical_gradient(x):
            """A numerical gradient."""

    module = LearnerModule(str(tmp_path), "m", Ref)
    try:
        texts = []
        for function in (module.y_hat, module.numerical_gradient):
            with pytest.raises(Mistake) as caught:
                function(np.zeros(3))
            texts.append(caught.value.message)
    finally:
        module.close()
    assert all("changed its input in place" in text for text in texts)
    assert "perturbed on purpose" not in texts[0]
    assert "perturbed on purpose" in texts[1]
