"""The learner's module as the graded tests see it.

``LearnerModule(folder, "vectorized", reference)`` looks like the module: its
attributes are functions. Calling one runs the learner's code in a sandbox
worker (:mod:`gradkata.sandbox`), remembers a readable description of the call
for messages, and fails with a clear message if the call changed any of the
caller's arguments (even if it then raised), or returned one of them: every
function of the kata leaves its inputs as it found them and returns new
objects (seed 000 copies its weights with ``deepcopy`` for that reason).
"""

from __future__ import annotations

import inspect
from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple

from .sandbox import LearnerError, Sandbox, feed_arguments
from .verdict import Mistake, describe_call, modified, show


class LearnerFunction:
    """One function of the learner's module, called in the sandbox."""

    def __init__(self, sandbox: Sandbox, module: str, name: str,
                 signature: Optional[inspect.Signature]) -> None:
        self._sandbox = sandbox
        self.__name__ = name
        self.qualname = f"{module}.{name}"
        self._signature = signature
        self._last: Tuple[tuple, Dict[str, Any]] = ((), {})

    def _named(self, args: tuple, kwargs: Dict[str, Any]) -> List[Tuple[Optional[str], Any]]:
        if self._signature is not None:
            try:
                bound = self._signature.bind(*args, **kwargs)
                return list(bound.arguments.items())
            except TypeError:
                pass
        return [(None, a) for a in args] + list(kwargs.items())

    @property
    def last_call(self) -> str:
        """The last call, written out for a message: ``module.func(a=..., b=...)``.

        Built only when a message needs it: rendering arrays costs more than a call.
        """
        args, kwargs = self._last
        return describe_call(self.qualname, self._named(args, kwargs))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self._last = (args, kwargs)
        try:
            result, changed = self._sandbox.call(self.__name__, args, kwargs, _Doing(self))
        except LearnerError as exc:
            self._check_unchanged(args, kwargs, exc.changed, raised=exc)
            raise
        self._check_unchanged(args, kwargs, changed)
        self._check_not_shared(args, kwargs, self._sandbox.shared)
        return result

    def chain(self, steps: int, *args: Any, feed: Any, **kwargs: Any) -> Iterator[Any]:
        """Call the function ``steps`` times, each call on what the last one returned,
        in a single round trip to the worker; yield each result in turn.

        ``feed`` names which arguments the results replace (see
        :func:`gradkata.sandbox.feed_arguments`), e.g. ``[(2, ("copy", None))]`` for
        ``update_weights(x, y, weights, lr)`` fed its own [W, b]. While a result is
        being looked at, ``last_call`` is the call that returned it, so messages
        name the right step. A step that raised or changed its input is reported
        as a call would be, once the results before it were looked at.
        """
        if steps <= 0:
            return
        self._last = (args, kwargs)
        results, stop = self._sandbox.chain(self.__name__, args, kwargs, feed, steps,
                                            _Doing(self, steps))
        failed_at = stop[1] if stop is not None and stop[0] != "feed" else None
        for step, result in enumerate(results):
            if step == failed_at:
                break
            yield result
            if step + 1 < steps and (stop is None or step < stop[1]):
                args = feed_arguments(feed, args, result)
                self._last = (args, kwargs)
        if stop is None:
            return
        kind, _, detail = stop
        if kind == "raise":
            raise self._sandbox.raised(self.__name__, detail, _Doing(self))
        if kind == "changed":
            self._check_unchanged(args, kwargs, detail)
        raise Mistake(f"Called {self.last_call}.\nIt returned {show(results[-1])}, which "
                      f"cannot be passed on to the next step ({detail}).")

    def each(self, calls: Iterable[tuple]) -> Iterator[Any]:
        """Call the function once for each argument tuple of ``calls``, all in a single
        round trip to the worker; yield each result in turn.

        For checks that make several independent calls (a table of cases), each of
        which would otherwise wait for the worker on its own. While a result is being
        looked at, ``last_call`` is the call that returned it. A call that changed its
        input, or raised, is reported as a call would be, once the results before it
        were looked at (the calls after a raise are not made). Arguments may be
        probes (:mod:`gradkata.probes`) that record nothing, not the judge's own
        functions.
        """
        calls = [tuple(args) for args in calls]
        if not calls:
            return
        results, stop = self._sandbox.each(self.__name__, calls, _Doing(self))
        for index, (result, changed) in enumerate(results):
            self._last = (calls[index], {})
            self._check_unchanged(calls[index], {}, changed)
            yield result
        if stop is not None:
            _, index, detail = stop
            self._last = (calls[index], {})
            raise self._sandbox.raised(self.__name__, detail, _Doing(self))

    def _label(self, args: tuple, kwargs: Dict[str, Any], key: Any) -> str:
        """The name of the argument at ``key`` (a position or a keyword), for a message."""
        if not isinstance(key, int):
            return str(key)
        named = self._named(args, kwargs)
        return named[key][0] or f"argument {key + 1}"

    def _check_unchanged(self, args: tuple, kwargs: Dict[str, Any],
                         changed: Dict[Any, Any], raised: Optional[LearnerError] = None
                         ) -> None:
        for key, after in changed.items():
            before = args[key] if isinstance(key, int) else kwargs[key]
            change = modified(before, after)
            if not change:
                continue
            label = self._label(args, kwargs, key)
            if raised is not None:
                # The evidence: it raised, and the argument was left changed.
                raise Mistake(
                    f"Called {self.last_call}.\nIt raised {raised.exc_type}, and by then the "
                    f"caller's `{label}` was different: {change}. Your function changed its "
                    "input in place and did not put it back before the exception left it: "
                    "restore what you changed on the way out too, whether the calls in "
                    f"between return or raise.\n{raised.message}"
                )
            perturbed = (", or an element perturbed on purpose and not put back"
                         if self.__name__ in PERTURBING else "")
            raise Mistake(
                f"Called {self.last_call}.\nAfterwards the caller's `{label}` was "
                f"different: {change}. Your function changed its input in place. Possible "
                "causes: an update written into the caller's array (`-=`, `+=` or an "
                f"assignment to an element) rather than into a copy or a new array{perturbed}."
            )

    def _check_not_shared(self, args: tuple, kwargs: Dict[str, Any],
                          shared: List[Tuple[Any, Any]]) -> None:
        """Fail if a part of the result is one of the caller's arguments (or shares its
        memory): the caller who changes the result would change its input too."""
        for part, key in shared:
            what = "It returned" if part is None else f"Item {part} of what it returned was"
            label = self._label(args, kwargs, key)
            raise Mistake(
                f"Called {self.last_call}.\n{what} the caller's own `{label}` (the very "
                "object it was given, or an array sharing its memory), not a new one: a "
                "caller who then changes the result changes its input as well. Return a new "
                "array."
            )


# The kata's functions that move an element of their input on purpose (numerical
# gradients): only their in-place message speaks of putting a saved value back.
PERTURBING = frozenset({"numerical_gradient", "update_weights"})


class _Doing:
    """'running module.func(...)', rendered only if a message needs it."""

    def __init__(self, function: LearnerFunction, steps: int = 1) -> None:
        self.function = function
        self.steps = steps

    def __str__(self) -> str:
        if self.steps > 1:
            return (f"running {self.function.last_call} and the {self.steps - 1} steps "
                    "after it")
        return f"running {self.function.last_call}"

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


class LearnerModule:
    """A learner's exercise module, run in its own worker process."""

    def __init__(self, folder: str, module: str, reference: Any = None,
                 sandbox: Optional[Sandbox] = None) -> None:
        self.name = module
        self.sandbox = sandbox if sandbox is not None else Sandbox(folder, module)
        self._reference = reference
        self._functions: Dict[str, LearnerFunction] = {}

    def __getattr__(self, name: str) -> LearnerFunction:
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in self._functions:
            signature = None
            ref = getattr(self._reference, name, None)
            if callable(ref):
                signature = inspect.signature(ref)
            self._functions[name] = LearnerFunction(self.sandbox, self.name, name, signature)
        return self._functions[name]

    def close(self) -> None:
        self.sandbox.close(graceful=True)
