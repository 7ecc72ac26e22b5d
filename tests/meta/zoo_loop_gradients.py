"""Realistic bugs in loop_gradients, and correct rewrites (see zoo.py for the format)."""

DW = "        dl_dw += (2 / N) * residual * (-x)  # d/dw of (1/N) * residual^2"
DB = "        dl_db += (2 / N) * residual * (-1)  # d/db of (1/N) * residual^2"
STEP_W = "    w_next = w - learning_rate * dl_dw"
STEP_B = "    b_next = b - learning_rate * dl_db"

MUTANTS = [
    dict(function="calculate_gradients", name="1/N where the derivative of the square gives 2/N",
         kind="factor 2",
         edits=[(DW, DW.replace("(2 / N)", "(1 / N)")), (DB, DB.replace("(2 / N)", "(1 / N)"))]),
    dict(function="calculate_gradients", name="residual as y_hat - y with the seed's (-x) kept",
         kind="sign",
         edits=[("residual = y_true - (w * x + b)", "residual = (w * x + b) - y_true")]),
    dict(function="calculate_gradients", name="gradient ascent: + instead of -", kind="sign",
         edits=[(STEP_W, STEP_W.replace("-", "+")), (STEP_B, STEP_B.replace("-", "+"))]),
    dict(function="calculate_gradients", name="bias left out of the prediction", kind=None,
         edits=[("residual = y_true - (w * x + b)", "residual = y_true - w * x")]),
    dict(function="calculate_gradients", name="parameters updated inside the loop (stochastic)",
         kind=None,
         edits=[(DB, DB + "\n        w = w - learning_rate * dl_dw\n"
                 "        b = b - learning_rate * dl_db\n        dl_dw = 0.0\n        dl_db = 0.0"),
                (STEP_W, "    w_next = w"), (STEP_B, "    b_next = b")]),
    dict(function="calculate_gradients", name="learning rate ignored", kind=None,
         edits=[(STEP_W, "    w_next = w - dl_dw"), (STEP_B, "    b_next = b - dl_db")]),
    dict(function="calculate_gradients", name="N hard-coded to the seed's 10", kind=None,
         edits=[(DW, DW.replace("(2 / N)", "(2 / 10)")), (DB, DB.replace("(2 / N)", "(2 / 10)"))]),
    dict(function="calculate_gradients", name="bias gradient with the inner derivative -x",
         kind=None, edits=[(DB, DB.replace("(-1)", "(-x)"))]),
    dict(function="calculate_gradients", name="= instead of +=: only the last sample counts",
         kind=None,
         edits=[(DW, DW.replace("+=", "=")), (DB, DB.replace("+=", "="))]),
    dict(function="calculate_gradients", name="returns the gradients, as the name suggests",
         kind=None, edits=[("return w_next, b_next", "return dl_dw, dl_db")]),
    dict(function="calculate_gradients", name="both parameters stepped with dL/dw", kind=None,
         edits=[(STEP_B, "    b_next = b - learning_rate * dl_dw")]),
]

LOOP = ("    for x, y_true in zip(x_data, y_data):\n"
        "        residual = y_true - (w * x + b)  # y_i - y_hat_i\n" + DW + "\n" + DB + "\n")
IMPORT = ("def calculate_gradients(", "import numpy as np\n\n\ndef calculate_gradients(")

ALTERNATIVES = [
    dict(function="calculate_gradients", name="vectorised with np.sum over the samples",
         edits=[IMPORT, (LOOP, "    x, y_true = np.asarray(x_data), np.asarray(y_data)\n"
                               "    residual = y_true - (w * x + b)\n"
                               "    dl_dw = np.sum((2 / N) * residual * (-x))\n"
                               "    dl_db = np.sum((2 / N) * residual * (-1))\n")]),
    dict(function="calculate_gradients", name="vectorised with np.mean of the residuals",
         edits=[IMPORT, (LOOP, "    x, y_true = np.asarray(x_data), np.asarray(y_data)\n"
                               "    error = (w * x + b) - y_true\n"
                               "    dl_dw = 2 * np.mean(error * x)\n"
                               "    dl_db = 2 * np.mean(error)\n")]),
    dict(function="calculate_gradients", name="indices instead of zip, derivative of (y_hat - y)^2",
         edits=[(LOOP, "    for i in range(N):\n"
                       "        y_hat = w * x_data[i] + b\n"
                       "        dl_dw += 2 * (y_hat - y_data[i]) * x_data[i] / N\n"
                       "        dl_db += 2 * (y_hat - y_data[i]) / N\n")]),
]

# The learner corpus: whole functions as learners write them (see zoo.py).
LEARNERS = [
    dict(function="calculate_gradients", name="w and b updated inside the sum (stochastic)",
         cause=("inside the loop", "fixed while", "held fixed", "after the loop"),
         source='''
def calculate_gradients(x_data, y_data, w, b, learning_rate, N):
    for x, y in zip(x_data, y_data):
        error = y - (w * x + b)
        w = w + learning_rate * (2 / N) * error * x
        b = b + learning_rate * (2 / N) * error
    return w, b
'''),
    dict(function="calculate_gradients", name="derivative of the square without its 2",
         cause=("half", "factor 2"),
         source='''
def calculate_gradients(x_data, y_data, w, b, learning_rate, N):
    gw = gb = 0.0
    for i in range(N):
        err = (w * x_data[i] + b) - y_data[i]
        gw += err * x_data[i] / N
        gb += err / N
    return w - learning_rate * gw, b - learning_rate * gb
'''),
    dict(function="calculate_gradients", name="divides by 2N as if the loss were halved",
         cause=("quarter", "0.25", "factor"), not_cause=("add a 2",),
         source='''
def calculate_gradients(x_data, y_data, w, b, learning_rate, N):
    gw = gb = 0.0
    for x, y in zip(x_data, y_data):
        err = (w * x + b) - y
        gw += err * x / (2 * N)
        gb += err / (2 * N)
    return w - learning_rate * gw, b - learning_rate * gb
'''),
    dict(function="calculate_gradients", name="in-place steps on the caller's arrays",
         cause=("changed its input",),
         source='''
def calculate_gradients(x_data, y_data, w, b, learning_rate, N):
    gw = gb = 0.0
    for x, y in zip(x_data, y_data):
        err = (w * x + b) - y
        gw += 2 * err * x / N
        gb += 2 * err / N
    w -= learning_rate * gw
    b -= learning_rate * gb
    return w, b
'''),
    dict(function="calculate_gradients", name="step goes uphill", cause=("sign", "uphill"),
         source='''
def calculate_gradients(x_data, y_data, w, b, learning_rate, N):
    gw = gb = 0.0
    for x, y in zip(x_data, y_data):
        err = (w * x + b) - y
        gw += 2 * err * x / N
        gb += 2 * err / N
    return w + learning_rate * gw, b + learning_rate * gb
'''),
    dict(function="calculate_gradients", name="b's step uses the w gradient's inner x",
         cause=("b_next",), not_cause=("w_next came back",),
         source='''
def calculate_gradients(x_data, y_data, w, b, learning_rate, N):
    gw = gb = 0.0
    for x, y in zip(x_data, y_data):
        err = (w * x + b) - y
        gw += 2 * err * x / N
        gb += 2 * err * x / N
    return w - learning_rate * gw, b - learning_rate * gb
'''),
    dict(function="calculate_gradients", name="returns the gradients, not the new parameters",
         cause=("gradient itself", "not the gradients", "learning rate was not used"),
         source='''
def calculate_gradients(x_data, y_data, w, b, learning_rate, N):
    gw = gb = 0.0
    for x, y in zip(x_data, y_data):
        err = (w * x + b) - y
        gw += 2 * err * x / N
        gb += 2 * err / N
    return gw, gb
'''),
    dict(function="calculate_gradients", name="len(x_data) - 1 samples (off by one)",
         cause=("samples left out", "sample left out", "skipped"),
         source='''
def calculate_gradients(x_data, y_data, w, b, learning_rate, N):
    gw = gb = 0.0
    for i in range(1, N):
        err = (w * x_data[i] + b) - y_data[i]
        gw += 2 * err * x_data[i] / N
        gb += 2 * err / N
    return w - learning_rate * gw, b - learning_rate * gb
'''),
    dict(function="calculate_gradients", name="learning rate forgotten for b only",
         cause=("learning rate was not used",),
         source='''
def calculate_gradients(x_data, y_data, w, b, learning_rate, N):
    gw = gb = 0.0
    for x, y in zip(x_data, y_data):
        err = (w * x + b) - y
        gw += 2 * err * x / N
        gb += 2 * err / N
    return w - learning_rate * gw, b - gb
'''),
]

CORRECT = [
    dict(function="calculate_gradients", name="sum() over generator expressions",
         source='''
def calculate_gradients(x_data, y_data, w, b, learning_rate, N):
    res = [y - (w * x + b) for x, y in zip(x_data, y_data)]
    gw = sum(-2 * r * x for r, x in zip(res, x_data)) / N
    gb = sum(-2 * r for r in res) / N
    return w - learning_rate * gw, b - learning_rate * gb
'''),
    dict(function="calculate_gradients", name="np.dot of residuals and x",
         imports="import numpy as np",
         source='''
def calculate_gradients(x_data, y_data, w, b, learning_rate, N):
    r = np.asarray(y_data) - (w * np.asarray(x_data) + b)
    return (w + learning_rate * 2 / N * np.dot(r, x_data),
            b + learning_rate * 2 / N * np.sum(r))
'''),
    dict(function="calculate_gradients", name="enumerate, gradients gathered in a list",
         source='''
def calculate_gradients(x_data, y_data, w, b, learning_rate, N):
    grads = [0.0, 0.0]
    for i, x in enumerate(x_data):
        d = 2 * ((w * x + b) - y_data[i]) / N
        grads[0] += d * x
        grads[1] += d
    w_next = w - learning_rate * grads[0]
    b_next = b - learning_rate * grads[1]
    return w_next, b_next
'''),
]

# Found by playing a learner through the kata: each message must name these causes.
LEARNERS += [
    dict(function="calculate_gradients", name="b returned without its step",
         cause=("b_next did not move",), not_cause=("Nothing moved",),
         source='''
def calculate_gradients(x_data, y_data, w, b, learning_rate, N):
    dw = db = 0.0
    for i in range(N):
        r = y_data[i] - (w * x_data[i] + b)
        dw += (2 / N) * r * (-x_data[i])
        db += (2 / N) * r * (-1)
    return w - learning_rate * dw, b
'''),
    dict(function="calculate_gradients", name="w_next and b_next returned swapped",
         cause=("swapped",), not_cause=("keep w and b fixed",),
         source='''
def calculate_gradients(x_data, y_data, w, b, learning_rate, N):
    dw = db = 0.0
    for i in range(N):
        r = y_data[i] - (w * x_data[i] + b)
        dw += (2 / N) * r * (-x_data[i])
        db += (2 / N) * r * (-1)
    return b - learning_rate * db, w - learning_rate * dw
'''),
    dict(function="calculate_gradients", name="last sample skipped: range(N - 1)",
         cause=("skipped",), not_cause=("keep w and b fixed",),
         source='''
def calculate_gradients(x_data, y_data, w, b, learning_rate, N):
    dw = db = 0.0
    for i in range(N - 1):
        r = y_data[i] - (w * x_data[i] + b)
        dw += (2 / N) * r * (-x_data[i])
        db += (2 / N) * r * (-1)
    return w - learning_rate * dw, b - learning_rate * db
'''),
    dict(function="calculate_gradients", name="the chain rule's -x_i dropped in dw",
         cause=("inner derivative",), not_cause=("keep w and b fixed",),
         source='''
def calculate_gradients(x_data, y_data, w, b, learning_rate, N):
    dw = db = 0.0
    for i in range(N):
        r = y_data[i] - (w * x_data[i] + b)
        dw += (2 / N) * r * x_data[i]
        db += (2 / N) * r * (-1)
    return w - learning_rate * dw, b - learning_rate * db
'''),
]
