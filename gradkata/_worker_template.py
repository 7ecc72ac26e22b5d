"""Imported first by the fork server that judges are forked from (see
:mod:`gradkata.runner`), and by nothing else: while that template holds numpy and
the sandbox only, it forks the lean process that every judge's worker server, and
so every sandbox worker, is forked from. No test, no reference and no pytest is
in its memory."""

import os

from . import runner, sandbox  # noqa: F401 - all that a worker runs, loaded once

# The kata the judges' template warms up on (if any): kept for it, and out of the
# lean process's and every worker's environment.
runner.warm_kata = os.environ.pop(runner.WARM_KATA, None)
runner.start_worker_template()
