"""Realistic bugs in numeric_gradients, and correct rewrites (see zoo.py for the format)."""

PRED = "pred = np.dot(inputs, weights[0]) + weights[1]"
LOSS = "return float(np.mean(np.square(pred - outputs)))"
NUDGE = "h = 0.0001  # the seeds' nudge"
RESULT = "updated_weights = deepcopy(weights)"
TEMP = "temp_weights = deepcopy(weights)"
PLUS = "            loss_plus = feed_forward(inputs, outputs, temp_weights)"
SLOPE = "grad = (loss_plus - original_loss) / h"
STEP = "updated_weights[i][index] -= lr * grad"
ELEMENTS = "        for index, _ in np.ndenumerate(layer):"

MUTANTS = [
    # feed_forward
    dict(function="feed_forward", name="sum where the mean belongs", kind=None,
         edits=[(LOSS, "return float(np.sum(np.square(pred - outputs)))")]),
    dict(function="feed_forward", name="absolute error instead of the square", kind=None,
         edits=[(LOSS, "return float(np.mean(np.abs(pred - outputs)))")]),
    dict(function="feed_forward", name="bias left out of the prediction", kind=None,
         edits=[(PRED, "pred = np.dot(inputs, weights[0])")]),
    dict(function="feed_forward", name="root of the mean square (RMSE)", kind=None,
         edits=[(LOSS, "return float(np.sqrt(np.mean(np.square(pred - outputs))))")]),
    # update_weights
    dict(function="update_weights", name="no deepcopy: the step written into the caller's weights",
         kind="modified input", edits=[(RESULT, "updated_weights = weights")]),
    dict(function="update_weights", name="nudge made in the caller's weights, never undone",
         kind="modified input", edits=[(TEMP, "temp_weights = weights")]),
    dict(function="update_weights", name="later slopes taken at already-updated weights",
         kind=None, edits=[(TEMP, "temp_weights = deepcopy(updated_weights)")]),
    dict(function="update_weights", name="a nudge of 0.01", kind=None,
         edits=[(NUDGE, "h = 0.01")]),
    dict(function="update_weights", name="forward difference divided by 2h", kind="factor 2",
         edits=[(SLOPE, "grad = (loss_plus - original_loss) / (2 * h)")]),
    dict(function="update_weights", name="learning rate ignored", kind=None,
         edits=[(STEP, "updated_weights[i][index] -= grad")]),
    dict(function="update_weights", name="gradient ascent: += lr * grad", kind="sign",
         edits=[(STEP, "updated_weights[i][index] += lr * grad")]),
    dict(function="update_weights", name="slope as (L(theta) - L(theta + h)) / h", kind="sign",
         edits=[(SLOPE, "grad = (original_loss - loss_plus) / h")]),
    dict(function="update_weights", name="nudge added in float64, not in the weights' float32",
         kind=None,
         edits=[(TEMP, "temp_weights = [np.array(w, dtype=np.float64) for w in weights]")]),
    dict(function="update_weights", name="result built in float64", kind=None,
         edits=[(RESULT, "updated_weights = [np.array(w, dtype=np.float64) for w in weights]")]),
    dict(function="update_weights", name="only W updated, the bias forgotten", kind=None,
         edits=[("for i, layer in enumerate(weights):",
                 "for i, layer in enumerate(weights[:1]):")]),
]

ALTERNATIVES = [
    dict(function="update_weights", name="central differences",
         edits=[(PLUS, PLUS + "\n            temp_weights = deepcopy(weights)\n"
                 "            temp_weights[i][index] -= h\n"
                 "            loss_minus = feed_forward(inputs, outputs, temp_weights)"),
                (SLOPE, "grad = (loss_plus - loss_minus) / (2 * h)")]),
    dict(function="update_weights", name="itertools.product over the indices",
         edits=[("from copy import deepcopy", "import itertools\nfrom copy import deepcopy"),
                (ELEMENTS, "        shape = layer.shape\n"
                           "        for index in itertools.product(*[range(n) for n in shape]):")]),
    dict(function="update_weights", name="np.ndindex, with .copy() of each float32 array",
         edits=[(ELEMENTS, "        for index in np.ndindex(layer.shape):"),
                (RESULT, "updated_weights = [w.copy() for w in weights]"),
                (TEMP, "temp_weights = [w.copy() for w in weights]")]),
    dict(function="update_weights", name="nudged copy built with a float32 h, no deepcopy",
         edits=[("            temp_weights[i][index] += h\n",
                 "            temp_weights[i][index] = weights[i][index] + np.float32(h)\n"),
                (TEMP, "temp_weights = [w.copy() for w in weights]")]),
    dict(function="feed_forward", name="matrix product with @ on arrays, mean of squares by hand",
         edits=[(PRED, "pred = np.asarray(inputs) @ weights[0] + weights[1]"),
                (LOSS, "diff = pred - np.asarray(outputs)\n"
                       "    return float(np.sum(diff * diff) / diff.size)")]),
]

# The learner corpus: whole functions as learners write them (see zoo.py).
_UW = '''
def update_weights(inputs, outputs, weights, lr):
    h = 0.0001
    base = feed_forward(inputs, outputs, weights)
    new = deepcopy(weights)
    for i, layer in enumerate(weights):
        for index, _ in np.ndenumerate(layer):
            probe = deepcopy(weights)
            probe[i][index] += h
            slope = (feed_forward(inputs, outputs, probe) - base) / h
            new[i][index] -= lr * slope
    return new
'''

LEARNERS = [
    dict(function="feed_forward", name="python max instead of a mean", cause=("mean",),
         source='''
def feed_forward(inputs, outputs, weights):
    pred = np.dot(inputs, weights[0]) + weights[1]
    return float(np.sum((pred - outputs) ** 2))
'''),
    dict(function="feed_forward", name="weights applied as x.T W (transposed)",
         cause=("shape", "transpos"),
         source='''
def feed_forward(inputs, outputs, weights):
    pred = np.dot(np.transpose(inputs), weights[0]) + weights[1]
    return float(np.mean((pred - outputs) ** 2))
'''),
    dict(function="feed_forward", name="bias forgotten", cause=("bias",),
         source='''
def feed_forward(inputs, outputs, weights):
    pred = np.dot(inputs, weights[0])
    return float(np.mean((pred - outputs) ** 2))
'''),
    dict(function="feed_forward", name="absolute error instead of squared", cause=("square",),
         source='''
def feed_forward(inputs, outputs, weights):
    pred = np.dot(inputs, weights[0]) + weights[1]
    return float(np.mean(np.abs(pred - outputs)))
'''),
    dict(function="update_weights", name="nudges the caller's weights and never undoes it",
         cause=("changed its input",),
         source='''
def update_weights(inputs, outputs, weights, lr):
    h = 0.0001
    base = feed_forward(inputs, outputs, weights)
    grads = []
    for layer in weights:
        g = np.zeros_like(layer)
        for index, _ in np.ndenumerate(layer):
            layer[index] += h
            g[index] = (feed_forward(inputs, outputs, weights) - base) / h
        grads.append(g)
    return [w - lr * g for w, g in zip(weights, grads)]
'''),
    dict(function="update_weights", name="slopes measured on partly updated weights",
         cause=("original weights", "original"),
         source='''
def update_weights(inputs, outputs, weights, lr):
    h = 0.0001
    new = deepcopy(weights)
    for i, layer in enumerate(weights):
        for index, _ in np.ndenumerate(layer):
            base = feed_forward(inputs, outputs, new)
            probe = deepcopy(new)
            probe[i][index] += h
            slope = (feed_forward(inputs, outputs, probe) - base) / h
            new[i][index] -= lr * slope
    return new
'''),
    dict(function="update_weights", name="float64 working copy: weights come back float64",
         cause=("float64", "dtype"), not_cause=("nudge h other than",),
         source='''
def update_weights(inputs, outputs, weights, lr):
    h = 0.0001
    base = feed_forward(inputs, outputs, weights)
    new = [np.array(w, dtype=np.float64) for w in weights]
    for i, layer in enumerate(weights):
        for index, _ in np.ndenumerate(layer):
            probe = [np.array(w, dtype=np.float64) for w in weights]
            probe[i][index] += h
            new[i][index] -= lr * (feed_forward(inputs, outputs, probe) - base) / h
    return new
'''),
    dict(function="update_weights", name="step goes uphill", cause=("sign", "uphill"),
         source=_UW.replace("new[i][index] -= lr", "new[i][index] += lr")),
    dict(function="update_weights", name="nudge of 0.001 instead of 0.0001",
         cause=("0.001",),
         source=_UW.replace("h = 0.0001", "h = 0.001")),
]

CORRECT = [
    dict(function="update_weights", name="central difference (the tests allow it beside the story's forward one)",
         source='''
def update_weights(inputs, outputs, weights, lr):
    h = 0.0001
    new = deepcopy(weights)
    for i, layer in enumerate(weights):
        for index, _ in np.ndenumerate(layer):
            up, down = deepcopy(weights), deepcopy(weights)
            up[i][index] += h
            down[i][index] -= h
            slope = (feed_forward(inputs, outputs, up) - feed_forward(inputs, outputs, down)) / (2 * h)
            new[i][index] -= lr * slope
    return new
'''),
    dict(function="update_weights", name="list of arrays, lr times gradient list (numpy 2 safe)",
         source='''
def update_weights(inputs, outputs, weights, lr):
    h = 0.0001
    base = feed_forward(inputs, outputs, weights)
    grads = []
    for i, layer in enumerate(weights):
        g = np.zeros_like(layer)
        for index, _ in np.ndenumerate(layer):
            probe = deepcopy(weights)
            probe[i][index] += h
            g[index] = (feed_forward(inputs, outputs, probe) - base) / h
        grads.append(g)
    return [wt - lr * g for wt, g in zip(weights, grads)]
'''),
    dict(function="feed_forward", name="matmul and a mean of squares",
         source='''
def feed_forward(inputs, outputs, weights):
    W, b = weights
    residual = np.asarray(inputs, dtype=float) @ W + b - np.asarray(outputs, dtype=float)
    return float((residual ** 2).mean())
'''),
    dict(function="feed_forward", name="flattened dot product of the residual with itself",
         source='''
def feed_forward(inputs, outputs, weights):
    r = (np.dot(inputs, weights[0]) + weights[1] - np.asarray(outputs)).ravel()
    return float(np.dot(r, r) / r.size)
'''),
]
