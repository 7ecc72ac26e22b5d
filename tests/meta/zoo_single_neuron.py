"""Realistic bugs in single_neuron, and correct rewrites (see zoo.py for the format)."""

MUTANTS = [
    dict(function="y_hat", name="bias left out of the forward pass", kind=None,
         edits=[("return float(x_1 * w[0] + x_2 * w[1] + w[2])",
                 "return float(x_1 * w[0] + x_2 * w[1])")]),
    dict(function="y_hat", name="weights paired with the wrong inputs", kind=None,
         edits=[("return float(x_1 * w[0] + x_2 * w[1] + w[2])",
                 "return float(x_1 * w[1] + x_2 * w[0] + w[2])")]),
    dict(function="gradient_w1", name="the 2 of the square kept despite the 1/2", kind="factor 2",
         edits=[("return float((y_hat - y) * x_1)", "return float(2 * (y_hat - y) * x_1)")]),
    dict(function="gradient_w1", name="the input x_1 left out", kind="missing input",
         edits=[("return float((y_hat - y) * x_1)", "return float(y_hat - y)")]),
    dict(function="gradient_w2", name="the input x_2 left out", kind="missing input",
         edits=[("return float((y_hat - y) * x_2)", "return float(y_hat - y)")]),
    dict(function="gradient_w2", name="y - y_hat instead of y_hat - y", kind="sign",
         edits=[("return float((y_hat - y) * x_2)", "return float((y - y_hat) * x_2)")]),
    dict(function="gradient_w2", name="multiplied by the wrong input", kind=None,
         edits=[("return float((y_hat - y) * x_2)", "return float((y_hat - y) * y)")]),
    dict(function="gradient_b", name="sign flipped", kind="sign",
         edits=[("return float(y_hat - y)", "return float(y - y_hat)")]),
    dict(function="adapt_weights", name="the caller's weights updated in place (the seed's own bug)",
         kind="modified input",
         edits=[("w = np.array(initial_weights, dtype=float)",
                 "w = np.asarray(initial_weights, dtype=float)")]),
    dict(function="adapt_weights", name="parameters updated one after another with fresh predictions",
         kind=None,
         edits=[("        dw2 = gradient_w2(prediction, y, x_2)",
                 "        dw2 = gradient_w2(y_hat(x_1, x_2, [w[0] - alpha * dw1, w[1], w[2]]), y, x_2)")]),
    dict(function="adapt_weights",
         name="no copy but new arrays each step: epochs=0 returns the caller's own array",
         kind=None,
         edits=[("w = np.array(initial_weights, dtype=float)",
                 "w = np.asarray(initial_weights, dtype=float)"),
                ("        w[0] = w[0] - alpha * dw1\n        w[1] = w[1] - alpha * dw2\n"
                 "        w[2] = w[2] - alpha * db\n",
                 "        w = w - alpha * np.array([dw1, dw2, db])\n")]),
    dict(function="adapt_weights", name="off by one epoch", kind=None,
         edits=[("for _ in range(epochs):", "for _ in range(epochs + 1):")]),
    dict(function="adapt_weights", name="learning rate ignored (fixed 0.1)", kind=None,
         edits=[("w[0] = w[0] - alpha * dw1", "w[0] = w[0] - 0.1 * dw1"),
                ("w[1] = w[1] - alpha * dw2", "w[1] = w[1] - 0.1 * dw2"),
                ("w[2] = w[2] - alpha * db", "w[2] = w[2] - 0.1 * db")]),
    dict(function="adapt_weights", name="gradient ascent: + instead of -", kind="sign",
         edits=[("w[0] = w[0] - alpha * dw1", "w[0] = w[0] + alpha * dw1"),
                ("w[1] = w[1] - alpha * dw2", "w[1] = w[1] + alpha * dw2"),
                ("w[2] = w[2] - alpha * db", "w[2] = w[2] + alpha * db")]),
]

ALTERNATIVES = [
    dict(function="y_hat", name="a dot product with [x_1, x_2, 1]",
         edits=[("return float(x_1 * w[0] + x_2 * w[1] + w[2])",
                 "return float(np.dot([x_1, x_2, 1.0], np.asarray(w, dtype=float)))")]),
    dict(function="adapt_weights", name="vectorised update along [x_1, x_2, 1]",
         edits=[("        w[0] = w[0] - alpha * dw1\n        w[1] = w[1] - alpha * dw2\n"
                 "        w[2] = w[2] - alpha * db\n",
                 "        w = w - alpha * np.array([dw1, dw2, db])\n")]),
]

# The learner corpus: whole functions as learners write them (see zoo.py).
LEARNERS = [
    dict(function="adapt_weights", name="returns initial_weights itself when there is no epoch",
         cause=("caller's own",), not_cause=("fixed 0.1",),
         source='''
def adapt_weights(x_1, x_2, y, initial_weights, epochs, alpha=0.1):
    if epochs == 0:
        return initial_weights
    w = np.array(initial_weights, dtype=float)
    for _ in range(epochs):
        err = y_hat(x_1, x_2, w) - y
        w = w - alpha * err * np.array([x_1, x_2, 1.0])
    return w
'''),
    dict(function="y_hat", name="bias taken from w[0], weights shifted", cause=("bias", "w[2]"),
         source='''
def y_hat(x_1, x_2, w):
    b, w1, w2 = w
    return float(w1 * x_1 + w2 * x_2 + b)
'''),
    dict(function="y_hat", name="bias forgotten", cause=("bias",),
         source='''
def y_hat(x_1, x_2, w):
    return float(x_1 * w[0] + x_2 * w[1])
'''),
    dict(function="y_hat", name="w1 and w2 swapped", cause=("swapped", "w1 and w2"),
         not_cause=("bias is the last",),
         source='''
def y_hat(x_1, x_2, w):
    return float(x_1 * w[1] + x_2 * w[0] + w[2])
'''),
    dict(function="gradient_w1", name="residual the wrong way round", cause=("sign",),
         source='''
def gradient_w1(y_hat, y, x_1):
    error = y - y_hat
    return float(error * x_1)
'''),
    dict(function="gradient_w2", name="the 2 of the square kept although the loss is halved",
         cause=("twice", "factor 2"),
         source='''
def gradient_w2(y_hat, y, x_2):
    return float(2 * (y_hat - y) * x_2)
'''),
    dict(function="gradient_b", name="bias gradient multiplied by an input", cause=("bias",),
         source='''
def gradient_b(y_hat, y):
    return float((y_hat - y) * y_hat)
'''),
    dict(function="adapt_weights", name="prediction recomputed before each weight's step",
         cause=("prediction", "one prediction", "same prediction"), not_cause=("fixed 0.1",),
         source='''
def adapt_weights(x_1, x_2, y, initial_weights, epochs, alpha=0.1):
    w = list(initial_weights)
    for epoch in range(epochs):
        w[0] = w[0] - alpha * gradient_w1(y_hat(x_1, x_2, w), y, x_1)
        w[1] = w[1] - alpha * gradient_w2(y_hat(x_1, x_2, w), y, x_2)
        w[2] = w[2] - alpha * gradient_b(y_hat(x_1, x_2, w), y)
    return np.array(w)
'''),
    dict(function="adapt_weights", name="caller's weights updated in place",
         cause=("changed its input",),
         source='''
def adapt_weights(x_1, x_2, y, initial_weights, epochs, alpha=0.1):
    w = initial_weights
    for _ in range(epochs):
        p = y_hat(x_1, x_2, w)
        g = [gradient_w1(p, y, x_1), gradient_w2(p, y, x_2), gradient_b(p, y)]
        for i in range(3):
            w[i] -= alpha * g[i]
    return w
'''),
    dict(function="adapt_weights", name="one epoch too many", cause=("one epoch more",),
         source='''
def adapt_weights(x_1, x_2, y, initial_weights, epochs, alpha=0.1):
    w = np.array(initial_weights, dtype=float)
    for _ in range(epochs + 1):
        p = y_hat(x_1, x_2, w)
        w = w - alpha * np.array([gradient_w1(p, y, x_1), gradient_w2(p, y, x_2),
                                  gradient_b(p, y)])
    return w
'''),
    dict(function="adapt_weights", name="fixed learning rate 0.1 instead of alpha",
         cause=("rate of 0.1", "use alpha"),
         source='''
def adapt_weights(x_1, x_2, y, initial_weights, epochs, alpha=0.1):
    w = np.array(initial_weights, dtype=float)
    for _ in range(epochs):
        p = y_hat(x_1, x_2, w)
        w = w - 0.1 * np.array([gradient_w1(p, y, x_1), gradient_w2(p, y, x_2),
                                gradient_b(p, y)])
    return w
'''),
    dict(function="adapt_weights", name="float32 working copy", cause=("float32",),
         source='''
def adapt_weights(x_1, x_2, y, initial_weights, epochs, alpha=0.1):
    w = np.array(initial_weights, dtype=np.float32)
    for _ in range(epochs):
        p = y_hat(x_1, x_2, w)
        w -= alpha * np.array([gradient_w1(p, y, x_1), gradient_w2(p, y, x_2),
                               gradient_b(p, y)], dtype=np.float32)
    return w
'''),
]

CORRECT = [
    dict(function="y_hat", name="np.dot with [x_1, x_2, 1]",
         source='''
def y_hat(x_1, x_2, w):
    return float(np.dot([x_1, x_2, 1.0], w))
'''),
    dict(function="adapt_weights", name="whole vector step from a gradient array",
         source='''
def adapt_weights(x_1, x_2, y, initial_weights, epochs, alpha=0.1):
    w = np.asarray(initial_weights, dtype=float).copy()
    for _ in range(epochs):
        p = y_hat(x_1, x_2, w)
        grad = np.array([gradient_w1(p, y, x_1), gradient_w2(p, y, x_2), gradient_b(p, y)])
        w = w - alpha * grad
    return w
'''),
    dict(function="adapt_weights", name="while loop counting down, tuple unpacking",
         source='''
def adapt_weights(x_1, x_2, y, initial_weights, epochs, alpha=0.1):
    w1, w2, b = (float(v) for v in initial_weights)
    left = epochs
    while left > 0:
        p = y_hat(x_1, x_2, [w1, w2, b])
        w1, w2, b = (w1 - alpha * gradient_w1(p, y, x_1), w2 - alpha * gradient_w2(p, y, x_2),
                     b - alpha * gradient_b(p, y))
        left -= 1
    return np.array([w1, w2, b])
'''),
    dict(function="gradient_w1", name="chain rule spelled out in two lines",
         source='''
def gradient_w1(y_hat, y, x_1):
    dloss_dyhat = y_hat - y
    dyhat_dw1 = x_1
    return float(dloss_dyhat * dyhat_dw1)
'''),
]

# Found by playing a learner through the kata: each message must name these causes.
LEARNERS += [
    dict(function="gradient_b", name="the squared error, not its derivative",
         cause=("squared error",), not_cause=("opposite sign", "gradient_b(y_hat=3"),
         source='''
def gradient_b(y_hat, y):
    return (y_hat - y) ** 2
'''),
]
LEARNERS += [
    dict(function="adapt_weights", name="returns a list [w1, w2, b]",
         cause=("a list",), not_cause=("Possible causes",),
         source='''
def adapt_weights(x_1, x_2, y, initial_weights, epochs, alpha=0.1):
    w1, w2, b = (float(v) for v in initial_weights)
    for _ in range(epochs):
        err = w1 * x_1 + w2 * x_2 + b - y
        w1, w2, b = w1 - alpha * err * x_1, w2 - alpha * err * x_2, b - alpha * err
    return [w1, w2, b]
'''),
    dict(function="adapt_weights", name="working copy keeps integer starting weights' dtype",
         cause=("integer",), not_cause=("Possible causes",),
         source='''
def adapt_weights(x_1, x_2, y, initial_weights, epochs, alpha=0.1):
    w = np.array(initial_weights)
    for _ in range(epochs):
        err = y_hat(x_1, x_2, w) - y
        w[0] = w[0] - alpha * err * x_1
        w[1] = w[1] - alpha * err * x_2
        w[2] = w[2] - alpha * err
    return w
'''),
    dict(function="adapt_weights", name="a local y_hat hides the function y_hat",
         cause=("hides",),
         source='''
def adapt_weights(x_1, x_2, y, initial_weights, epochs, alpha=0.1):
    w = np.array(initial_weights, dtype=float)
    for _ in range(epochs):
        y_hat = y_hat(x_1, x_2, w)
        err = y_hat - y
        w = w - alpha * err * np.array([x_1, x_2, 1.0])
    return w
'''),
    dict(function="y_hat", name="a (1,) array of the right value",
         cause=("single number",), not_cause=("Possible causes",),
         source='''
def y_hat(x_1, x_2, w):
    return np.array([x_1, x_2, 1.0]) @ np.reshape(w, (3, 1))
'''),
]
