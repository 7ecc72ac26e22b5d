"""``python -m gradkata``: the same as the ``gradkata`` command."""

from .cli import run

run()
