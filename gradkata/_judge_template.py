"""Imported once, by the fork server that judges are forked from (class grading's,
``gradkata watch``'s: see :mod:`gradkata.runner`), and by nothing else: it runs pytest once on a
trivial test and asks which isolation is in force, so that every judge starts
with pytest's plugins loaded, its caches filled and the jail's answer known.
No test of the kata and no reference is loaded here: the sandbox's workers are
forked from the judges, and must find none in their memory."""

import gc

from . import jail, runner

runner.warm_up()
jail.status()  # probed once (it starts a process), then cached

# Set every object that exists now aside from the garbage collector: a judge's
# collections then never walk (and so never copy, page by page) the template's memory.
gc.freeze()
