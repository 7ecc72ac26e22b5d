"""``python -m gradkata``: the same as the ``gradkata`` command."""

import sys

from .cli import main

sys.exit(main())
