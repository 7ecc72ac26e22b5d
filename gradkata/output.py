"""How much of a text a learner is shown: the one limit, and the cut that says so.

Used for what the learner's code printed (the sandbox keeps at most this much
per call and per test) and for a test's message in results files (scoring).
"""

from __future__ import annotations

OUTPUT_LIMIT = 4000  # characters


def cut(text: str, limit: int = OUTPUT_LIMIT) -> str:
    """``text`` if it fits in ``limit`` characters; else its start and how much was cut."""
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n... ({len(text) - limit} more characters cut)"
