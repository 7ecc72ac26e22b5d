"""Imported once, by the fork server that judges are forked from (class grading's,
the zoo's, ``gradkata watch``'s: see :mod:`gradkata.runner`), and by nothing else:
it runs pytest once on a trivial test and the kata's suite, where one was
given, on an empty folder (:func:`gradkata.runner.warm_up`), and asks which
isolation is in force, so that every judge starts with pytest's plugins loaded,
the kata's test modules and reference imported, its caches filled and the
jail's answer known. The sandbox's workers hold none of this: they are forked
from a lean process that the template forked before it imported pytest or any
test (:mod:`gradkata._worker_template`)."""

import gc

from . import jail, runner

runner.warm_up(runner.warm_kata)
jail.status()  # probed once, then cached

# Set every object that exists now aside from the garbage collector: a judge's
# collections then never walk (and so never copy, page by page) the template's memory.
gc.freeze()
