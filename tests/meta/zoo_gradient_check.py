"""Realistic bugs in gradient_check, and correct rewrites (see zoo.py for the format)."""

LOOP = """    for ix in np.ndindex(x.shape):
        oldval = x[ix]
        try:
            x[ix] = oldval + eps
            fxph = f(x)  # f(x + eps)
            x[ix] = oldval - eps
            fxmh = f(x)  # f(x - eps)
        finally:
            x[ix] = oldval  # restore
        grad[ix] = (fxph - fxmh) / (2 * eps)  # the slope
"""

PERTURB = """        oldval = x[ix]
        try:
            x[ix] = oldval + eps
            fxph = f(x)  # f(x + eps)
            x[ix] = oldval - eps
            fxmh = f(x)  # f(x - eps)
        finally:
            x[ix] = oldval  # restore
"""

MUTANTS = [
    # numerical_gradient
    dict(function="numerical_gradient",
         name="forward difference (seed 000's) where central was asked", kind=None,
         edits=[("            x[ix] = oldval - eps\n            fxmh = f(x)  # f(x - eps)\n",
                 "            x[ix] = oldval\n            fxmh = f(x)  # f(x)\n"),
                ("grad[ix] = (fxph - fxmh) / (2 * eps)", "grad[ix] = (fxph - fxmh) / eps")]),
    dict(function="numerical_gradient", name="divided by eps instead of 2*eps", kind="factor 2",
         edits=[("grad[ix] = (fxph - fxmh) / (2 * eps)", "grad[ix] = (fxph - fxmh) / eps")]),
    dict(function="numerical_gradient", name="perturbation never undone", kind="modified input",
         edits=[("x[ix] = oldval  # restore", "pass  # x[ix] is left at oldval - eps")]),
    # Once accepted: the docstring asks for x as it was even when f raises.
    dict(function="numerical_gradient",
         name="add and subtract, no try/finally: x left moved when f raises",
         kind="modified input",
         edits=[(PERTURB,
                 "        x[ix] += eps\n"
                 "        fxph = f(x)\n"
                 "        x[ix] -= 2 * eps\n"
                 "        fxmh = f(x)\n"
                 "        x[ix] += eps  # back, up to rounding\n")]),
    dict(function="numerical_gradient",
         name="works on a copy that is never restored: later elements see earlier perturbations",
         kind=None,
         edits=[("    grad = np.zeros(x.shape,", "    x = x.copy()  # spare the caller\n"
                                                 "    grad = np.zeros(x.shape,"),
                ("x[ix] = oldval  # restore", "pass  # the copy is never put back")]),
    dict(function="numerical_gradient", name="eps ignored: a hard-coded 1e-5", kind=None,
         edits=[("x[ix] = oldval + eps", "x[ix] = oldval + 1e-5"),
                ("x[ix] = oldval - eps", "x[ix] = oldval - 1e-5"),
                ("/ (2 * eps)  # the slope", "/ (2 * 1e-5)  # the slope")]),
    dict(function="numerical_gradient", name="returns a flat array", kind="shape",
         edits=[("    return grad\n", "    return grad.ravel()\n")]),
    dict(function="numerical_gradient", name="works on a flattened x: f sees the wrong shape",
         kind="shape",
         edits=[("    grad = np.zeros(x.shape,", "    x = x.reshape(-1)  # a flat view\n"
                                                 "    grad = np.zeros(x.shape,")]),
    dict(function="numerical_gradient", name="loops over rows (len(x)), not elements", kind=None,
         edits=[("for ix in np.ndindex(x.shape):", "for ix in range(len(x)):")]),
    dict(function="numerical_gradient", name="result in x's dtype (np.zeros_like)", kind=None,
         edits=[("grad = np.zeros(x.shape, dtype=np.result_type(x.dtype, np.float64))",
                 "grad = np.zeros_like(x)")]),
    # relative_error
    dict(function="relative_error", name="mean over elements instead of max", kind=None,
         edits=[("return float(np.max(ratio, initial=0.0))",
                 "return float(np.mean(ratio)) if ratio.size else 0.0")]),
    dict(function="relative_error", name="no 1e-8 floor: 0/0 is nan", kind=None,
         edits=[("np.maximum(1e-8, np.abs(a) + np.abs(b))", "(np.abs(a) + np.abs(b))")]),
    dict(function="relative_error", name="|a - b| / |a|: not symmetric", kind=None,
         edits=[("np.maximum(1e-8, np.abs(a) + np.abs(b))", "np.maximum(1e-8, np.abs(a))")]),
    dict(function="relative_error", name="np.nanmax: nan entries ignored", kind=None,
         edits=[("np.max(ratio, initial=0.0)", "np.nanmax(ratio, initial=0.0)")]),
    dict(function="relative_error", name="np.max without initial: fails on empty arrays", kind=None,
         edits=[("np.max(ratio, initial=0.0)", "np.max(ratio)")]),
    # check_gradient
    dict(function="check_gradient", name="<= where < was asked", kind=None,
         edits=[("relative_error(numeric, analytic) < tolerance)",
                 "relative_error(numeric, analytic) <= tolerance)")]),
    dict(function="check_gradient", name="compares the numerical gradient with f(x)", kind=None,
         edits=[("analytic = grad(x)", "analytic = f(x)")]),
    dict(function="check_gradient", name="result inverted", kind=None,
         edits=[("relative_error(numeric, analytic) < tolerance)",
                 "relative_error(numeric, analytic) >= tolerance)")]),
    dict(function="check_gradient", name="eps not passed on", kind=None,
         edits=[("numeric = numerical_gradient(f, x, eps)", "numeric = numerical_gradient(f, x)")]),
    dict(function="check_gradient", name="tolerance ignored: a hard-coded 1e-6", kind=None,
         edits=[("relative_error(numeric, analytic) < tolerance)",
                 "relative_error(numeric, analytic) < 1e-6)")]),
    dict(function="check_gradient", name="no float64 copy: an integer x swallows eps", kind=None,
         edits=[("x = np.array(x, dtype=np.float64)  # a private float64 copy",
                 "x = np.asarray(x)")]),
]

ALTERNATIVES = [
    dict(function="numerical_gradient", name="np.nditer with multi_index (CS231n's loop)",
         edits=[("    for ix in np.ndindex(x.shape):\n",
                 "    it = np.nditer(x, flags=[\"multi_index\"])\n"
                 "    while not it.finished:\n"
                 "        ix = it.multi_index\n"),
                ("        grad[ix] = (fxph - fxmh) / (2 * eps)  # the slope\n",
                 "        grad[ix] = (fxph - fxmh) / (2 * eps)  # the slope\n"
                 "        it.iternext()\n")]),
    dict(function="numerical_gradient", name="a flat index over reshape(-1) views of x and grad",
         edits=[(LOOP,
                 "    flat_x = x.reshape(-1)  # a view: writing flat_x[i] writes x\n"
                 "    flat_grad = grad.reshape(-1)\n"
                 "    for i in range(x.size):\n"
                 "        oldval = flat_x[i]\n"
                 "        try:\n"
                 "            flat_x[i] = oldval + eps\n"
                 "            fxph = f(x)\n"
                 "            flat_x[i] = oldval - eps\n"
                 "            fxmh = f(x)\n"
                 "        finally:\n"
                 "            flat_x[i] = oldval\n"
                 "        flat_grad[i] = (fxph - fxmh) / (2 * eps)\n")]),
    dict(function="numerical_gradient", name="np.ndenumerate (seed 000's loop)",
         edits=[("    for ix in np.ndindex(x.shape):\n", "    for ix, _ in np.ndenumerate(x):\n")]),
    dict(function="numerical_gradient", name="perturbs fresh copies, x never touched",
         edits=[(PERTURB,
                 "        x_plus = x.copy()\n"
                 "        x_plus[ix] += eps\n"
                 "        x_minus = x.copy()\n"
                 "        x_minus[ix] -= eps\n"
                 "        fxph, fxmh = f(x_plus), f(x_minus)\n")]),
    dict(function="relative_error", name="explicit empty case and ndarray.max",
         edits=[("    ratio = np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))\n",
                 "    ratio = np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-8)\n"
                 "    if ratio.size == 0:\n"
                 "        return 0.0\n"),
                ("return float(np.max(ratio, initial=0.0))", "return float(ratio.max())")]),
    dict(function="relative_error", name="no dtype=float: float32 inputs compared in float32",
         edits=[("    a = np.asarray(a, dtype=float)\n    b = np.asarray(b, dtype=float)\n",
                 "    a = np.asarray(a)\n    b = np.asarray(b)\n")]),
    dict(function="numerical_gradient", name="np.zeros(x.shape): float64 by default",
         edits=[("grad = np.zeros(x.shape, dtype=np.result_type(x.dtype, np.float64))",
                 "grad = np.zeros(x.shape)")]),
    dict(function="check_gradient", name="returns a numpy bool",
         edits=[("return bool(relative_error(numeric, analytic) < tolerance)",
                 "return np.less(relative_error(numeric, analytic), tolerance)")]),
    dict(function="check_gradient", name="float copy by asarray(...).astype",
         edits=[("x = np.array(x, dtype=np.float64)  # a private float64 copy",
                 "x = np.asarray(x).astype(float)")]),
]

# The learner corpus: whole functions as learners write them (see zoo.py).
LEARNERS = [
    dict(function="numerical_gradient", name="restores x, but not when f raises",
         cause=("before the exception",), not_cause=("default at 1e-5",),
         source='''
def numerical_gradient(f, x, eps=1e-5):
    grad = np.zeros(x.shape)
    for ix in np.ndindex(x.shape):
        saved = x[ix]
        x[ix] = saved + eps
        up = f(x)
        x[ix] = saved - eps
        down = f(x)
        x[ix] = saved
        grad[ix] = (up - down) / (2 * eps)
    return grad
'''),
    dict(function="numerical_gradient", name="forward difference", cause=("forward",),
         not_cause=("default at 1e-5",),
         source='''
def numerical_gradient(f, x, eps=1e-5):
    grad = np.zeros(x.shape)
    fx = f(x)
    for ix in np.ndindex(x.shape):
        old = x[ix]
        x[ix] = old + eps
        grad[ix] = (f(x) - fx) / eps
        x[ix] = old
    return grad
'''),
    dict(function="numerical_gradient", name="divides by eps, not 2*eps",
         cause=("twice", "2 * eps", "2*eps", "factor 2"), not_cause=("default at 1e-5",),
         source='''
def numerical_gradient(f, x, eps=1e-5):
    grad = np.zeros(x.shape)
    for ix in np.ndindex(x.shape):
        old = x[ix]
        x[ix] = old + eps
        a = f(x)
        x[ix] = old - eps
        b = f(x)
        x[ix] = old
        grad[ix] = (a - b) / eps
    return grad
'''),
    dict(function="numerical_gradient", name="never puts the element back",
         cause=("changed its input", "restore", "put the saved value back"),
         source='''
def numerical_gradient(f, x, eps=1e-5):
    grad = np.zeros(x.shape)
    for ix in np.ndindex(x.shape):
        x[ix] += eps
        a = f(x)
        x[ix] -= 2 * eps
        b = f(x)
        grad[ix] = (a - b) / (2 * eps)
    return grad
'''),
    dict(function="numerical_gradient", name="only loops over the first axis",
         cause=("shape", "element"),
         source='''
def numerical_gradient(f, x, eps=1e-5):
    grad = np.zeros(x.shape)
    for i in range(len(x)):
        old = x[i].copy() if np.ndim(x) > 1 else x[i]
        x[i] = old + eps
        a = f(x)
        x[i] = old - eps
        b = f(x)
        x[i] = old
        grad[i] = (a - b) / (2 * eps)
    return grad
'''),
    dict(function="numerical_gradient", name="gradient array in x's dtype (float32 kept)",
         cause=("float32", "dtype", "float64"),
         source='''
def numerical_gradient(f, x, eps=1e-5):
    grad = np.zeros_like(x)
    for ix in np.ndindex(x.shape):
        old = x[ix]
        x[ix] = old + eps
        a = f(x)
        x[ix] = old - eps
        b = f(x)
        x[ix] = old
        grad[ix] = (a - b) / (2 * eps)
    return grad
'''),
    dict(function="relative_error", name="python max over an array", cause=("max", "largest",
                                                                             "worst"),
         source='''
def relative_error(a, b):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / max(1e-8, float(np.max(np.abs(a) + np.abs(b)))),
                        initial=0.0))
'''),
    dict(function="relative_error", name="np.nanmax hides nan", cause=("nan",),
         source='''
def relative_error(a, b):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.size == 0:
        return 0.0
    return float(np.nanmax(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))
'''),
    dict(function="relative_error", name="empty arrays crash np.max", cause=("empty",),
         source='''
def relative_error(a, b):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))
'''),
    dict(function="relative_error", name="divides by |a| only", cause=("symmetric", "|a| + |b|"),
         source='''
def relative_error(a, b):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a)), initial=0.0))
'''),
    dict(function="check_gradient", name="no float64 copy of x", cause=("float64", "copy"),
         not_cause=("Compare relative_error(",),
         source='''
def check_gradient(f, grad, x, eps=1e-5, tolerance=1e-6):
    numeric = numerical_gradient(f, x, eps)
    return bool(relative_error(numeric, grad(x)) < tolerance)
'''),
    dict(function="check_gradient", name="<= where < belongs", cause=("tolerance", "strictly"),
         source='''
def check_gradient(f, grad, x, eps=1e-5, tolerance=1e-6):
    x = np.array(x, dtype=np.float64)
    return bool(relative_error(numerical_gradient(f, x, eps), grad(x)) <= tolerance)
'''),
    dict(function="check_gradient", name="eps ignored: numerical_gradient's default",
         cause=("eps",), not_cause=("Return whether the error is strictly",),
         source='''
def check_gradient(f, grad, x, eps=1e-5, tolerance=1e-6):
    x = np.array(x, dtype=np.float64)
    return bool(relative_error(numerical_gradient(f, x), grad(x)) < tolerance)
'''),
]

CORRECT = [
    dict(function="numerical_gradient", name="flat view with nditer-free indexing",
         source='''
def numerical_gradient(f, x, eps=1e-5):
    grad = np.zeros(x.shape, dtype=np.float64)
    flat_x = x.reshape(-1)
    flat_g = grad.reshape(-1)
    for i in range(flat_x.size):
        old = flat_x[i]
        try:
            flat_x[i] = old + eps
            up = f(x)
            flat_x[i] = old - eps
            down = f(x)
        finally:
            flat_x[i] = old
        flat_g[i] = (up - down) / (2 * eps)
    return grad
'''),
    dict(function="relative_error", name="np.where instead of np.maximum",
         source='''
def relative_error(a, b):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.size == 0:
        return 0.0
    den = np.abs(a) + np.abs(b)
    den = np.where(den > 1e-8, den, 1e-8)
    return float((np.abs(a - b) / den).max())
'''),
    dict(function="check_gradient", name="astype copy and an explicit comparison",
         source='''
def check_gradient(f, grad, x, eps=1e-5, tolerance=1e-6):
    x64 = np.asarray(x).astype(np.float64)
    err = relative_error(numerical_gradient(f, x64, eps), grad(x64))
    if err < tolerance:
        return True
    return False
'''),
]

# Found by playing a learner through the kata: each message must name these causes.
LEARNERS += [
    dict(function="relative_error", name="python max between a number and an array",
         cause=("elementwise",),
         source='''
def relative_error(a, b):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    ratio = np.abs(a - b) / max(1e-8, np.abs(a) + np.abs(b))
    return float(np.max(ratio, initial=0.0))
'''),
]
LEARNERS += [
    dict(function="numerical_gradient", name="range(len(x)) over the flat elements",
         cause=("counts the rows",),
         source='''
def numerical_gradient(f, x, eps=1e-5):
    grad = np.zeros(x.shape)
    for i in range(len(x)):
        old = x.flat[i]
        x.flat[i] = old + eps
        a = f(x)
        x.flat[i] = old - eps
        b = f(x)
        x.flat[i] = old
        grad.flat[i] = (a - b) / (2 * eps)
    return grad
'''),
]
