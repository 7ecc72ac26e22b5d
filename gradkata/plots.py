"""Figures drawn with the learner's own functions: ``gradkata plot ...``.

- ``learning-rate``: fitting y = 3x, the weight W against the epoch for
  learning rates 0.01, 0.1 and 1, each step taken by the learner's
  ``numeric_gradients.update_weights``, with a marker where W froze.
- ``loss EXERCISE``: the loss against the epoch for the learner's step
  function, with the loss at the least-squares optimum as a horizontal line.

The learner's functions run in a sandbox worker (:class:`gradkata.learner.LearnerModule`),
never in this process; the losses, the optimum and the figure are computed here.
matplotlib is an optional extra: ``pip install "gradkata[plots]"``.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from . import reference
from .learner import LearnerModule
from .sandbox import LearnerAbort, LearnerError
from .verdict import Mistake, show

DPI = 100
LEARNING_RATE_FIGSIZE = (8.0, 10.0)  # inches: three panels, one above the other (800 x 1000 px)
LOSS_FIGSIZE = (8.0, 5.0)  # 800 x 500 px

INSTALL = ('Plots need matplotlib, an optional extra of gradkata. Install it with\n'
           '    pip install "gradkata[plots]"\n'
           'or, in a clone of the kata,\n'
           '    pip install -e ".[learn]"')

# Seed 001: fit y = 3x from four points, starting from zero float32 weights.
SEED_001_X = [[1], [2], [3], [4]]
SEED_001_Y = [[3], [6], [9], [12]]
LEARNING_RATES = (0.01, 0.1, 1)
WEIGHT_EPOCHS = 1000  # as in seed 001's first figure


class PlotProblem(Exception):
    """The learner's function could not draw the figure; the message says why."""

    def __init__(self, message: str, not_started: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.not_started = not_started


class MatplotlibMissing(Exception):
    pass


def require_matplotlib() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise MatplotlibMissing(INSTALL) from None


# --------------------------------------------------------------------------
# Calling the learner


def _reference(root: Path, name: str) -> Any:
    """solutions/<name>.py (trusted), only for its signatures in messages; None if unavailable.

    In the handout, which has no solutions/, the recorded signatures."""
    try:
        return reference.load(root, name)
    except Exception:  # noqa: BLE001 - signatures only make messages nicer
        return None


def _call(function: Any, *args: Any) -> Any:
    """Call a learner function; turn its problems into a PlotProblem."""
    try:
        return function(*args)
    except (LearnerAbort, LearnerError, Mistake) as exc:
        message = getattr(exc, "message", str(exc))
        raise PlotProblem(message, getattr(exc, "status", "") == "not started") from None


def _bad_return(function: Any, got: Any, want: str) -> PlotProblem:
    return PlotProblem(f"Called {function.last_call}.\nIt returned {show(got)}, but the plot "
                       f"needs {want}. Run `gradkata check` for the details.")


def _weights_pair(function: Any, got: Any, shapes: Sequence[Tuple[int, ...]],
                  want: str) -> List[np.ndarray]:
    """The two parameters a step returned, checked to be finite-size arrays of the right shapes."""
    if not isinstance(got, (list, tuple)) or len(got) != 2:
        raise _bad_return(function, got, want)
    try:
        pair = [np.asarray(v, dtype=float) for v in got]
    except (TypeError, ValueError):
        raise _bad_return(function, got, want) from None
    for value, shape in zip(pair, shapes):
        if value.size != int(np.prod(shape)):
            raise _bad_return(function, got, want)
    return pair


# --------------------------------------------------------------------------
# Seed 001: the weight over the epochs


def weight_history(update_weights: Any, lr: float, epochs: int = WEIGHT_EPOCHS) -> List[float]:
    """W after each of ``epochs`` calls of the learner's update_weights, from W = b = 0."""
    weights: Any = [np.array([[0]], dtype=np.float32), np.array([[0]], dtype=np.float32)]
    history = []
    for _ in range(epochs):
        got = _call(update_weights, SEED_001_X, SEED_001_Y, weights, lr)
        w, _b = _weights_pair(update_weights, got, [(1, 1), (1, 1)],
                              "the list [W, b] of two arrays of shape (1, 1)")
        history.append(float(w.reshape(-1)[0]))
        weights = got  # what the learner returned goes into the next epoch, as in the seed
    return history


def frozen_epoch(history: Sequence[float]) -> Optional[int]:
    """The first epoch (counting from 1) after which W never changes again, if that
    happens before the last epoch; None when W still moves at the end."""
    if len(history) < 2 or history[-1] != history[-2]:
        return None
    first = len(history)
    while first > 1 and history[first - 2] == history[-1]:
        first -= 1
    return first


def critical_rate() -> float:
    """2 / lambda_max of the MSE's Hessian (2/N) A^T A for y = 3x with A = [x, 1]: above
    it gradient descent diverges, between half of it and it the weight oscillates."""
    a = np.hstack([np.array(SEED_001_X, dtype=float), np.ones((len(SEED_001_X), 1))])
    return float(2 / np.linalg.eigvalsh(2 / len(a) * a.T @ a)[-1])


OPTIMUM_W = 3.0  # y = 3x exactly: the fit has W = 3, b = 0
ZOOM_EPOCHS = 40  # the oscillation at lr 0.1 dies out within these


def draw_learning_rate(fig: Any, histories: Dict[float, List[float]]) -> None:
    axes = fig.subplots(len(histories), 1)
    critical = critical_rate()
    for ax, (lr, history) in zip(np.atleast_1d(axes), histories.items()):
        epochs = range(1, len(history) + 1)
        ax.plot(epochs, history)
        side = ("at most half the critical rate" if lr <= critical / 2 else
                "between half the critical rate and the critical rate" if lr < critical else
                "above the critical rate")
        ax.set_title(f"Weight over the epochs at learning rate {lr:g}\n({side} "
                     f"2/lambda_max = {critical:.3g})", fontsize=10)
        ax.set_xlabel("Epochs")
        ax.set_ylabel("Weight value")
        if all(abs(v) < 1e6 for v in history):  # beside a blow-up the line would be flat at 0
            ax.axhline(OPTIMUM_W, linestyle="--", color="tab:gray", label="optimum W = 3")
        if critical / 2 < lr < critical and len(history) > ZOOM_EPOCHS:
            zoom = ax.inset_axes((0.42, 0.5, 0.55, 0.42))
            zoom.plot(range(1, ZOOM_EPOCHS + 1), history[:ZOOM_EPOCHS], marker=".")
            zoom.axhline(OPTIMUM_W, linestyle="--", color="tab:gray")
            zoom.set_title(f"the first {ZOOM_EPOCHS} epochs", fontsize=8)
            zoom.tick_params(labelsize=7)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="lower right")
        frozen = frozen_epoch(history)
        if frozen is not None:
            ax.plot([frozen], [history[frozen - 1]], "o", color="tab:red", label="frozen")
            ax.annotate(f"W stops changing after epoch {frozen} (W = {history[frozen - 1]:.6g})",
                        xy=(frozen, history[frozen - 1]), xytext=(0.4, 0.25),
                        textcoords="axes fraction", fontsize=9,
                        arrowprops={"arrowstyle": "->", "color": "tab:red"})
            ax.legend(loc="lower right")
    fig.tight_layout()


def learning_rate_histories(folder: Path, root: Path,
                            epochs: int = WEIGHT_EPOCHS) -> Dict[float, List[float]]:
    """The three runs on y = 3x with the learner's update_weights."""
    learner = LearnerModule(str(folder), "numeric_gradients", _reference(root, "numeric_gradients"))
    try:
        return {lr: weight_history(learner.update_weights, lr, epochs) for lr in LEARNING_RATES}
    finally:
        learner.close()


# --------------------------------------------------------------------------
# The loss over the epochs


@dataclass(frozen=True)
class LossSetup:
    """One exercise's training run for ``gradkata plot loss``."""

    exercise: str
    function: str
    data: str  # the data, in a few words, for the title
    lr: float
    epochs: int
    loss_label: str
    start: Callable[[], Any]  # the starting parameters
    step: Callable[[Any, Any, float], Any]  # (learner function, parameters, lr) -> parameters
    loss: Callable[[Any], float]  # parameters -> loss, computed here
    optimum: Callable[[], float]  # the least-squares optimum's loss


def _lstsq_mse(x: np.ndarray, y: np.ndarray) -> float:
    """The MSE of the least-squares fit of y = x @ w + b."""
    a = np.hstack([x, np.ones((x.shape[0], 1))])
    theta = np.linalg.lstsq(a, y, rcond=None)[0]
    return float(np.mean((a @ theta - y) ** 2))


def _single_neuron() -> LossSetup:
    # Seed 003's sample and starting weights, alpha 0.1.
    x1, x2, y = 2.0, -1.0, 1.0

    def step(f: Any, w: np.ndarray, lr: float) -> np.ndarray:
        got = _call(f, x1, x2, y, w, 1, lr)  # one epoch at a time
        try:
            arr: Optional[np.ndarray] = np.asarray(got, dtype=float)
        except (TypeError, ValueError):  # strings, ragged lists, ...
            arr = None
        if arr is None or arr.shape != (3,):
            raise _bad_return(f, got, "the weights [w1, w2, b] as an array of shape (3,)")
        return arr

    return LossSetup(
        "single_neuron", "adapt_weights", "x = (2, -1), y = 1", 0.1, 30, "Loss 1/2 (y_hat - y)^2",
        start=lambda: np.array([-0.5, 0.5, 1.5]),
        step=step,
        loss=lambda w: 0.5 * float(x1 * w[0] + x2 * w[1] + w[2] - y) ** 2,
        optimum=lambda: 0.0,  # one sample: a line fits it exactly
    )


def _loop_gradients() -> LossSetup:
    # Seed 004: N = 10 noise-free points on a random line, from w = b = 0, lr 0.01.
    rng = np.random.default_rng(4)
    n = 10
    x = rng.random(n)
    y = rng.random() * x + rng.random()

    def step(f: Any, wb: Tuple[float, float], lr: float) -> Tuple[float, float]:
        got = _call(f, x.copy(), y.copy(), wb[0], wb[1], lr, n)
        w, b = _weights_pair(f, got, [(1,), (1,)], "the pair (w_next, b_next) of two numbers")
        return float(w.reshape(-1)[0]), float(b.reshape(-1)[0])

    return LossSetup(
        "loop_gradients", "calculate_gradients", "10 points of a line", 0.01, 500, "Loss (MSE)",
        start=lambda: (0.0, 0.0),
        step=step,
        loss=lambda wb: float(np.mean((y - (wb[0] * x + wb[1])) ** 2)),
        optimum=lambda: _lstsq_mse(x[:, None], y[:, None]),
    )


def _vectorized() -> LossSetup:
    # Seed 002: 10 samples, 5 features, a little noise, random starting weights, lr 0.01.
    rng = np.random.default_rng(2)
    x = rng.random((10, 5))
    w_true, b_true = rng.standard_normal((5, 1)), rng.standard_normal(1)
    y = x @ w_true + b_true + 0.05 * rng.standard_normal((10, 1))
    w0, b0 = rng.random((5, 1)), rng.random((1, 1))

    def step(f: Any, wb: Tuple[np.ndarray, np.ndarray],
             lr: float) -> Tuple[np.ndarray, np.ndarray]:
        w, b = wb
        y_hat = x @ w + b  # the forward pass is computed here: only backward is plotted
        got = _call(f, y.copy(), y_hat, w.copy(), b.copy(), x.copy(), lr)
        w_next, b_next = _weights_pair(f, got, [(5, 1), (1, 1)],
                                       "(w_next, b_next) with shapes (5, 1) and (1, 1)")
        return w_next.reshape(5, 1), b_next.reshape(1, 1)

    return LossSetup(
        "vectorized", "backward", "10 samples, 5 features", 0.01, 2000, "Loss (MSE)",
        start=lambda: (w0.copy(), b0.copy()),
        step=step,
        loss=lambda wb: float(np.mean((y - (x @ wb[0] + wb[1])) ** 2)),
        optimum=lambda: _lstsq_mse(x, y),
    )


def _numeric_gradients() -> LossSetup:
    # Seed 001: y = 3x from zero float32 weights, lr 0.01.
    x = np.array(SEED_001_X, dtype=float)
    y = np.array(SEED_001_Y, dtype=float)

    def step(f: Any, weights: Any, lr: float) -> Any:
        got = _call(f, SEED_001_X, SEED_001_Y, weights, lr)
        _weights_pair(f, got, [(1, 1), (1, 1)], "the list [W, b] of two arrays of shape (1, 1)")
        return got

    def loss(weights: Any) -> float:
        w, b = (np.asarray(v, dtype=float).reshape(1, 1) for v in weights)
        return float(np.mean((x @ w + b - y) ** 2))

    return LossSetup(
        "numeric_gradients", "update_weights", "y = 3x", 0.01, 1000, "Loss (MSE)",
        start=lambda: [np.array([[0]], dtype=np.float32), np.array([[0]], dtype=np.float32)],
        step=step,
        loss=loss,
        optimum=lambda: _lstsq_mse(x, y),
    )


LOSS_SETUPS: Dict[str, Callable[[], LossSetup]] = {
    "single_neuron": _single_neuron,
    "loop_gradients": _loop_gradients,
    "vectorized": _vectorized,
    "numeric_gradients": _numeric_gradients,
}


@dataclass
class LossCurve:
    setup: LossSetup
    losses: List[float]  # before any step (epoch 0), then after each epoch
    optimum: float
    diverged_at: Optional[int] = None


def train(setup: LossSetup, function: Any) -> LossCurve:
    """Run the setup's epochs with ``function`` (the learner's step) and record the loss."""
    params = setup.start()
    losses = [setup.loss(params)]
    diverged = None
    for epoch in range(1, setup.epochs + 1):
        params = setup.step(function, params, setup.lr)
        value = setup.loss(params)
        losses.append(value)
        if not np.isfinite(value) or value > 1e12 * max(losses[0], 1e-12):
            diverged = epoch  # the rest would be off the chart (or overflow)
            break
    return LossCurve(setup, losses, setup.optimum(), diverged)


def loss_setup(exercise: str, lr: Optional[float] = None) -> LossSetup:
    """``exercise``'s training run, at its own learning rate or at ``lr``."""
    setup = LOSS_SETUPS[exercise]()
    return setup if lr is None else replace(setup, lr=float(lr))


def loss_curve(folder: Path, root: Path, exercise: str,
               lr: Optional[float] = None) -> LossCurve:
    """The loss curve of the learner's step function for ``exercise``, run in the sandbox."""
    setup = loss_setup(exercise, lr)
    learner = LearnerModule(str(folder), exercise, _reference(root, exercise))
    try:
        return train(setup, getattr(learner, setup.function))
    finally:
        learner.close()


def log_scale(values: Sequence[float]) -> bool:
    """Whether the positive finite values span more than two orders of magnitude: on a
    linear axis everything past the first epochs would look like 0."""
    arr = np.asarray(values, dtype=float)
    positive = arr[np.isfinite(arr) & (arr > 0)]
    return positive.size > 1 and float(positive.max()) > 100 * float(positive.min())


def draw_loss(fig: Any, curve: LossCurve) -> None:
    s = curve.setup
    ax = fig.subplots()
    ax.plot(range(len(curve.losses)), curve.losses, label=f"your {s.exercise}.{s.function}")
    log = log_scale(curve.losses)
    lowest = min((v for v in curve.losses if np.isfinite(v) and v > 0), default=0.0)
    if not log or curve.optimum >= lowest / 100:
        ax.axhline(curve.optimum, linestyle="--", color="tab:gray",
                   label=f"least-squares optimum (loss {curve.optimum:.3g})")
    else:  # far below the curve (or 0): a line there would squash the curve into the top
        ax.plot([], [], " ", label=f"least-squares optimum: loss {curve.optimum:.3g}, "
                                   "below this axis")
    ax.set_title(f"Loss over the epochs with your {s.function}\n"
                 f"(learning rate {s.lr:g}, {s.data})", fontsize=10)
    ax.set_xlabel("Epochs")
    ax.set_ylabel(s.loss_label)
    if log or curve.diverged_at is not None:
        ax.set_yscale("log")
    ax.legend()
    fig.tight_layout()


# --------------------------------------------------------------------------
# A window, or a PNG


_NON_INTERACTIVE = {"agg", "cairo", "pdf", "pgf", "ps", "svg", "template"}


def can_show() -> bool:
    """Whether plt.show() would open a window: a display, and an interactive backend."""
    if os.environ.get("MPLBACKEND", "").lower() in _NON_INTERACTIVE:
        return False
    if sys.platform not in ("darwin", "win32") and not (
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return False
    try:
        import matplotlib

        backend = matplotlib.get_backend().lower()  # resolves the default backend
    except Exception:  # noqa: BLE001 - no usable GUI toolkit: save instead
        return False
    try:
        from matplotlib.backends import BackendFilter, backend_registry

        interactive = backend_registry.list_builtin(BackendFilter.INTERACTIVE)
    except ImportError:  # pragma: no cover - matplotlib < 3.9
        from matplotlib import rcsetup

        interactive = rcsetup.interactive_bk  # type: ignore[attr-defined]
    return backend in {name.lower() for name in interactive}


def render(draw: Callable[[Any], None], figsize: Tuple[float, float], out: Optional[Path],
           default_name: str) -> Optional[Path]:
    """Show the figure in a window (no ``out`` and one can), else save it with Agg.
    Returns the saved file, or None when it was shown."""
    if out is None and can_show():
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=figsize, dpi=DPI)
        draw(fig)
        plt.show()
        return None
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    path = out if out is not None else Path.cwd() / default_name
    fig = Figure(figsize=figsize, dpi=DPI)
    FigureCanvasAgg(fig)
    draw(fig)
    fig.savefig(str(path), dpi=DPI)
    return path
