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
