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
