"""Realistic bugs in vectorized, and correct rewrites (see zoo.py for the format)."""

FORWARD = "    return x @ w + b"
LOSS = "    return float(np.mean((y - y_hat) ** 2))"
N_LINE = "    n_samples = x.shape[0]"
ERROR = "    error = y_hat - y"
GRAD_W = "    grad_w = x.T @ error / n_samples"
GRAD_B = "    grad_b = np.sum(error, axis=0, keepdims=True) / n_samples"
STEP_W = "    w_next = w - learning_rate * grad_w"
STEP_B = "    b_next = b - learning_rate * grad_b"

MUTANTS = [
    # forward
    dict(function="forward", name="bias left out", kind=None,
         edits=[(FORWARD, "    return x @ w")]),
    dict(function="forward", name="bias added to the first row only", kind=None,
         edits=[(FORWARD, "    y_hat = x @ w\n    y_hat[0] += b[0]\n    return y_hat")]),
    dict(function="forward", name="one bias number for every output", kind=None,
         edits=[(FORWARD, "    return x @ w + b[0, 0]")]),
    # calculate_loss
    dict(function="calculate_loss", name="sum where the mean belongs", kind=None,
         edits=[(LOSS, "    return float(np.sum((y - y_hat) ** 2))")]),
    dict(function="calculate_loss", name="absolute error instead of the square", kind=None,
         edits=[(LOSS, "    return float(np.mean(np.abs(y - y_hat)))")]),
    dict(function="calculate_loss", name="mean over the samples only: one loss per output",
         kind="shape", edits=[(LOSS, "    return np.mean((y - y_hat) ** 2, axis=0)")]),
    dict(function="calculate_loss", name="divided by N, not by N*k", kind=None,
         edits=[(LOSS, "    return float(np.sum((y - y_hat) ** 2) / len(y))")]),
    # backward
    dict(function="backward", name="the 2 of the square kept: 2/N", kind="factor 2",
         edits=[(GRAD_W, GRAD_W.replace("x.T", "2 * x.T")),
                (GRAD_B, GRAD_B.replace("np.sum", "2 * np.sum"))]),
    dict(function="backward", name="error as y - y_hat", kind="sign",
         edits=[(ERROR, "    error = y - y_hat")]),
    dict(function="backward", name="gradient ascent: + instead of -", kind="sign",
         edits=[(STEP_W, STEP_W.replace("-", "+")), (STEP_B, STEP_B.replace("-", "+"))]),
    dict(function="backward", name="bias gradient not summed over the samples", kind="shape",
         edits=[(GRAD_B, "    grad_b = error / n_samples")]),
    dict(function="backward", name="bias treated as a vector: b_next of shape (k,)", kind="shape",
         edits=[(STEP_B, "    b_next = b[0] - learning_rate * grad_b[0]")]),
    dict(function="backward", name="transposed product error.T @ x", kind="shape",
         edits=[(GRAD_W, "    grad_w = error.T @ x / n_samples")]),
    dict(function="backward", name="N from the wrong axis, x.shape[1]", kind=None,
         edits=[(N_LINE, "    n_samples = x.shape[1]")]),
    dict(function="backward", name="N from the seed's global n_samples = 10", kind=None,
         edits=[(N_LINE, "    n_samples = 10")]),
    dict(function="backward", name="w updated in place (w -= ...)", kind="modified input",
         edits=[(STEP_W, "    w -= learning_rate * grad_w\n    w_next = w")]),
    dict(function="backward", name="learning rate ignored", kind=None,
         edits=[(STEP_W, "    w_next = w - grad_w"), (STEP_B, "    b_next = b - grad_b")]),
    dict(function="backward", name="bias gradient averaged over all N*k entries", kind=None,
         edits=[(GRAD_B, "    grad_b = np.mean(error) * np.ones_like(b)")]),
]

ALTERNATIVES = [
    dict(function="backward", name="gradients with np.einsum",
         edits=[(GRAD_W, "    grad_w = np.einsum('np,nk->pk', x, error) / n_samples"),
                (GRAD_B, "    grad_b = np.einsum('nk->k', error)[np.newaxis, :] / n_samples")]),
    dict(function="forward", name="np.dot, with b[0] broadcast over the rows",
         edits=[(FORWARD, "    return np.dot(x, w) + b[0]")]),
    dict(function="forward", name="np.matmul and an explicit row-by-row copy of b",
         edits=[(FORWARD, "    return np.matmul(x, w) + np.repeat(b, x.shape[0], axis=0)")]),
    dict(function="backward", name="np.mean over the samples and N from len(x)",
         edits=[(N_LINE, "    n_samples = len(x)"),
                (GRAD_B, "    grad_b = np.mean(error, axis=0, keepdims=True)")]),
    dict(function="calculate_loss", name="np.square, summed and divided by y.size",
         edits=[(LOSS, "    return float(np.sum(np.square(y_hat - y)) / y.size)")]),
]

# The learner corpus: whole functions as learners write them (see zoo.py).
LEARNERS = [
    dict(function="forward", name="w @ x instead of x @ w", cause=("shape", "transpos", "order"),
         source='''
def forward(x, w, b):
    return np.dot(w.T, x.T) + b.T
'''),
    dict(function="forward", name="bias forgotten", cause=("bias", "b"),
         not_cause=("transposed",),
         source='''
def forward(x, w, b):
    return np.dot(x, w)
'''),
    dict(function="calculate_loss", name="sum instead of mean", cause=("mean", "times"),
         source='''
def calculate_loss(y, y_hat):
    return float(np.sum((y - y_hat) ** 2))
'''),
    dict(function="calculate_loss", name="mean over axis 0 only, an array back",
         cause=("shape", "single number", "float"),
         source='''
def calculate_loss(y, y_hat):
    return np.mean((y - y_hat) ** 2, axis=0)
'''),
    dict(function="backward", name="bias gradient without the sum over samples",
         cause=("rows", "sum over the samples", "summed over the samples"),
         source='''
def backward(y, y_hat, w, b, x, learning_rate):
    n = x.shape[0]
    err = y_hat - y
    return w - learning_rate * (x.T @ err) / n, b - learning_rate * err / n
'''),
    dict(function="backward", name="error.T @ x (transposed weight gradient)",
         cause=("transpos",),
         source='''
def backward(y, y_hat, w, b, x, learning_rate):
    n = len(x)
    err = y_hat - y
    gw = (err.T @ x).T if w.shape[0] != w.shape[1] else err.T @ x
    return w - learning_rate * gw / n, b - learning_rate * err.sum(axis=0, keepdims=True) / n
'''),
    dict(function="backward", name="sum over axis 1 for the bias", cause=("shape", "axis"),
         source='''
def backward(y, y_hat, w, b, x, learning_rate):
    n = x.shape[0]
    err = y_hat - y
    gb = np.sum(err, axis=1, keepdims=True) / n
    return w - learning_rate * (x.T @ err) / n, b - learning_rate * gb
'''),
    dict(function="backward", name="in-place update of the caller's w and b",
         cause=("changed its input",),
         source='''
def backward(y, y_hat, w, b, x, learning_rate):
    n = x.shape[0]
    err = y_hat - y
    w -= learning_rate * (x.T @ err) / n
    b -= learning_rate * np.sum(err, axis=0, keepdims=True) / n
    return w, b
'''),
    dict(function="backward", name="residual y - y_hat with a minus step", cause=("sign",),
         source='''
def backward(y, y_hat, w, b, x, learning_rate):
    n = x.shape[0]
    err = y - y_hat
    return (w - learning_rate * (x.T @ err) / n,
            b - learning_rate * np.sum(err, axis=0, keepdims=True) / n)
'''),
    dict(function="backward", name="float32 step results", cause=("float32", "dtype"),
         source='''
def backward(y, y_hat, w, b, x, learning_rate):
    n = x.shape[0]
    err = (y_hat - y).astype(np.float32)
    gw = x.T.astype(np.float32) @ err / n
    gb = np.sum(err, axis=0, keepdims=True) / n
    return w.astype(np.float32) - learning_rate * gw, b.astype(np.float32) - learning_rate * gb
'''),
]

CORRECT = [
    dict(function="backward", name="np.dot and mean over axis 0",
         source='''
def backward(y, y_hat, w, b, x, learning_rate):
    d = y_hat - y
    gw = np.dot(x.T, d) / x.shape[0]
    gb = d.mean(axis=0, keepdims=True)
    return w - learning_rate * gw, b - learning_rate * gb
'''),
    dict(function="forward", name="np.matmul and broadcasting with np.add",
         source='''
def forward(x, w, b):
    return np.add(np.matmul(x, w), b)
'''),
    dict(function="calculate_loss", name="np.square of the difference, averaged by hand",
         source='''
def calculate_loss(y, y_hat):
    diff = np.asarray(y_hat) - np.asarray(y)
    return float(np.square(diff).sum() / diff.size)
'''),
]

# Found by playing a learner through the kata: each message must name these causes.
LEARNERS += [
    dict(function="calculate_loss", name="the root of the MSE (RMSE)",
         cause=("square root", "RMSE"), not_cause=("absolute values",),
         source='''
def calculate_loss(y, y_hat):
    return float(np.sqrt(np.mean((y - y_hat) ** 2)))
'''),
    dict(function="backward", name="db as a mean, then divided by N again",
         cause=("divided by N twice",), not_cause=("sum where a mean",),
         source='''
def backward(y, y_hat, w, b, x, learning_rate):
    N = x.shape[0]
    err = y_hat - y
    dw = x.T @ err / N
    db = np.mean(err, axis=0, keepdims=True) / N
    return w - learning_rate * dw, b - learning_rate * db
'''),
    dict(function="backward", name="the error transposed in dw: err.T @ x",
         cause=("transposed",), not_cause=("expected value transposed",
                                           "is the expected value, transposed"),
         source='''
def backward(y, y_hat, w, b, x, learning_rate):
    N = x.shape[0]
    err = y_hat - y
    dw = err.T @ x / N
    db = np.sum(err, axis=0, keepdims=True) / N
    return w - learning_rate * dw, b - learning_rate * db
'''),
    dict(function="backward", name="db summed over the wrong axis",
         cause=("another axis",), not_cause=("was a sum over the samples left out",
                                             "was not summed over the samples"),
         source='''
def backward(y, y_hat, w, b, x, learning_rate):
    N = x.shape[0]
    err = y_hat - y
    dw = x.T @ err / N
    db = np.sum(err, axis=1, keepdims=True) / N
    return w - learning_rate * dw, b - learning_rate * db
'''),
]
