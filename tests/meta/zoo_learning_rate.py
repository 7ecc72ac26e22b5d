"""Realistic bugs in learning_rate, and correct rewrites (see zoo.py for the format)."""

MUTANTS = [
    # critical_learning_rate
    dict(function="critical_learning_rate", name="smallest eigenvalue instead of the largest",
         kind=None,
         edits=[("np.linalg.eigvalsh(hessian)[-1]", "np.linalg.eigvalsh(hessian)[0]")]),
    dict(function="critical_learning_rate", name="1/lambda_max instead of 2/lambda_max",
         kind="factor 2",
         edits=[("return float(2.0 / lambda_max)", "return float(1.0 / lambda_max)")]),
    dict(function="critical_learning_rate", name="H = A.T @ A: the 2/N forgotten", kind=None,
         edits=[("hessian = (2.0 / n_samples) * (a.T @ a)", "hessian = a.T @ a")]),
    dict(function="critical_learning_rate", name="H = (1/N) A.T @ A: the 2 forgotten",
         kind="factor 2",
         edits=[("hessian = (2.0 / n_samples) * (a.T @ a)",
                 "hessian = (1.0 / n_samples) * (a.T @ a)")]),
    dict(function="critical_learning_rate", name="no column of ones: the bias forgotten", kind=None,
         edits=[("a = np.hstack([x, np.ones((n_samples, 1))])", "a = x")]),
    dict(function="critical_learning_rate", name="N read from the wrong axis (x.shape[1])",
         kind=None,
         edits=[("hessian = (2.0 / n_samples)", "hessian = (2.0 / x.shape[1])")]),
    # classify_learning_rate
    dict(function="classify_learning_rate", name="monotone up to crit instead of crit/2", kind=None,
         edits=[("    if lr <= crit / 2:", "    if lr <= crit:")]),
    dict(function="classify_learning_rate", name="< instead of <= at crit/2", kind=None,
         edits=[("    if lr <= crit / 2:", "    if lr < crit / 2:")]),
    dict(function="classify_learning_rate", name="<= instead of < at crit", kind=None,
         edits=[("    if lr < crit:", "    if lr <= crit:")]),
    dict(function="classify_learning_rate", name="monotone and oscillating swapped", kind=None,
         edits=[('return "monotone"', 'return "@@"'),
                ('return "oscillating"', 'return "monotone"'),
                ('return "@@"', 'return "oscillating"')]),
    dict(function="classify_learning_rate", name="lr = 0 accepted", kind=None,
         edits=[("if not lr > 0:", "if lr < 0:")]),
]

ALTERNATIVES = [
    dict(function="critical_learning_rate", name="largest singular value of A: (2/N) sigma_max^2",
         edits=[("    hessian = (2.0 / n_samples) * (a.T @ a)\n",
                 "    sigma_max = np.linalg.svd(a, compute_uv=False)[0]\n"),
                ("    lambda_max = np.linalg.eigvalsh(hessian)[-1]\n",
                 "    lambda_max = (2.0 / n_samples) * sigma_max**2\n")]),
    dict(function="critical_learning_rate", name="the spectral norm: np.linalg.norm(A, 2)**2",
         edits=[("    lambda_max = np.linalg.eigvalsh(hessian)[-1]\n",
                 "    lambda_max = (2.0 / n_samples) * np.linalg.norm(a, 2) ** 2\n")]),
    dict(function="critical_learning_rate", name="general eigvals, largest real part",
         edits=[("np.linalg.eigvalsh(hessian)[-1]", "np.max(np.linalg.eigvals(hessian).real)")]),
    dict(function="critical_learning_rate", name="eigh, then max",
         edits=[("np.linalg.eigvalsh(hessian)[-1]", "np.linalg.eigh(hessian)[0].max()")]),
    dict(function="classify_learning_rate", name="compares lr * lambda_max with 1 and 2",
         edits=[("    if lr <= crit / 2:", "    lam = 2 / crit\n    if lr * lam <= 1:"),
                ("    if lr < crit:", "    if lr * lam < 2:")]),
]

# The learner corpus: whole functions as learners write them (see zoo.py).
_CRIT = '''
def critical_learning_rate(inputs):
    x = np.asarray(inputs, dtype=float)
    if x.ndim not in (1, 2) or x.size == 0:
        raise ValueError("inputs must be a non-empty array of shape (N,) or (N, P)")
    x = x.reshape(len(x), -1)
    a = np.hstack([x, np.ones((len(x), 1))])
    h = 2 * a.T @ a / len(x)
    return float(2 / np.linalg.eigvalsh(h)[-1])
'''

LEARNERS = [
    dict(function="critical_learning_rate", name="smallest eigenvalue (eigvalsh's first)",
         cause=("largest", "lambda_max", "smallest"),
         source=_CRIT.replace("[-1]", "[0]")),
    dict(function="critical_learning_rate", name="no bias column", cause=("bias",),
         source='''
def critical_learning_rate(inputs):
    x = np.asarray(inputs, dtype=float)
    if x.ndim not in (1, 2) or x.size == 0:
        raise ValueError("bad inputs")
    x = x.reshape(len(x), -1)
    h = 2 * x.T @ x / len(x)
    return float(2 / np.linalg.eigvalsh(h)[-1])
'''),
    dict(function="critical_learning_rate", name="Hessian without its 2/N (A^T A / N)",
         cause=("twice", "factor 2"),
         source=_CRIT.replace("h = 2 * a.T @ a / len(x)", "h = a.T @ a / len(x)")),
    dict(function="critical_learning_rate", name="1 / lambda_max", cause=("half", "factor 2"),
         source=_CRIT.replace("float(2 / np.linalg", "float(1 / np.linalg")),
    dict(function="critical_learning_rate", name="no check for empty inputs",
         cause=("empty", "ValueError"),
         source='''
def critical_learning_rate(inputs):
    x = np.asarray(inputs, dtype=float)
    if x.ndim not in (1, 2):
        raise ValueError("inputs must have shape (N,) or (N, P)")
    if x.ndim == 1:
        x = x[:, np.newaxis]
    a = np.hstack([x, np.ones((len(x), 1))])
    return float(2 / np.linalg.eigvalsh(2 * a.T @ a / len(x))[-1])
'''),
    dict(function="classify_learning_rate", name="capitalised labels", cause=("lower-case",
                                                                              "written differently"),
         source='''
def classify_learning_rate(inputs, lr):
    if not lr > 0:
        raise ValueError("lr must be > 0")
    crit = critical_learning_rate(inputs)
    if lr <= crit / 2:
        return "Monotone"
    if lr < crit:
        return "Oscillating"
    return "Divergent"
'''),
    dict(function="classify_learning_rate", name="the critical rate itself called oscillating",
         cause=("divergent", "critical"),
         source='''
def classify_learning_rate(inputs, lr):
    if not lr > 0:
        raise ValueError("lr must be > 0")
    crit = critical_learning_rate(inputs)
    if lr <= crit / 2:
        return "monotone"
    if lr <= crit:
        return "oscillating"
    return "divergent"
'''),
    dict(function="classify_learning_rate", name="lr <= 0 accepted", cause=("ValueError", "> 0"),
         source='''
def classify_learning_rate(inputs, lr):
    crit = critical_learning_rate(inputs)
    if lr <= crit / 2:
        return "monotone"
    if lr < crit:
        return "oscillating"
    return "divergent"
'''),
    dict(function="classify_learning_rate", name="NaN slips through lr <= 0", cause=("nan",),
         source='''
def classify_learning_rate(inputs, lr):
    if lr <= 0:
        raise ValueError("lr must be > 0")
    crit = critical_learning_rate(inputs)
    if lr <= crit / 2:
        return "monotone"
    if lr < crit:
        return "oscillating"
    return "divergent"
'''),
    dict(function="classify_learning_rate", name="monotone boundary at the critical rate / 4",
         cause=("monotone", "half"),
         source='''
def classify_learning_rate(inputs, lr):
    if not lr > 0:
        raise ValueError("lr must be > 0")
    crit = critical_learning_rate(inputs)
    if lr <= crit / 4:
        return "monotone"
    if lr < crit:
        return "oscillating"
    return "divergent"
'''),
]

CORRECT = [
    dict(function="critical_learning_rate", name="np.linalg.eigvals and max of the real parts",
         source='''
def critical_learning_rate(inputs):
    x = np.array(inputs, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.size == 0:
        raise ValueError(f"inputs of shape {x.shape} are not (N,) or (N, P) with N > 0")
    a = np.concatenate([x, np.ones((x.shape[0], 1))], axis=1)
    lam = np.max(np.linalg.eigvals(2.0 * a.T @ a / x.shape[0]).real)
    return float(2.0 / lam)
'''),
    dict(function="classify_learning_rate", name="ratio to the critical rate",
         source='''
def classify_learning_rate(inputs, lr):
    if not (lr > 0):
        raise ValueError("a learning rate must be positive")
    r = lr / critical_learning_rate(inputs)
    return "monotone" if r <= 0.5 else ("oscillating" if r < 1 else "divergent")
'''),
    dict(function="critical_learning_rate", name="largest singular value squared",
         source='''
def critical_learning_rate(inputs):
    x = np.asarray(inputs, dtype=float)
    if x.ndim not in (1, 2) or x.size == 0:
        raise ValueError("inputs must be a non-empty (N,) or (N, P) array")
    x = x.reshape(x.shape[0], -1)
    a = np.column_stack([x, np.ones(x.shape[0])])
    s = np.linalg.svd(a, compute_uv=False)[0]
    return float(2.0 / (2.0 * s**2 / x.shape[0]))
'''),
]
