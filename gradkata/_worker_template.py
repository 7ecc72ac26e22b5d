"""Imported first by the fork server that judges are forked from (see
:mod:`gradkata.runner`), and by nothing else: while that template holds numpy and
the sandbox only, it forks the lean process that every judge's worker server, and
so every sandbox worker, is forked from. No test, no reference and no pytest is
in its memory."""

from . import runner, sandbox  # noqa: F401 - all that a worker runs, loaded once

runner.start_worker_template()
