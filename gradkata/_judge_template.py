"""Imported once, by the fork server that class grading forks its judges from
(see :mod:`gradkata.classgrade`), and by nothing else: it runs pytest once on an
empty folder, so that every judge starts with pytest's plugins found and loaded
and its caches filled. No test and no reference is loaded here: the sandbox's
workers are forked from the judges, and must find none in their memory."""

import gc

from . import runner

runner.warm_up()

# Set every object that exists now aside from the garbage collector: a judge's
# collections then never walk (and so never copy, page by page) the template's memory.
gc.freeze()
