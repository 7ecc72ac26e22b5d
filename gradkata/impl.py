"""Which implementation folder is graded: one rule, for the pytest plugin and the CLI.

The first of these that is set wins: ``--impl``, then ``GRADKATA_IMPL``, then
the ini value ``gradkata_impl`` (read by pytest from whichever configuration
file it found: pyproject.toml, pytest.ini, tox.ini or setup.cfg), then
``exercises``. ``exercises`` and ``solutions`` name the kata's own folders (in
pytest's rootdir); anything else is a folder, relative to where the command was
run for the option and the variable, and to the rootdir for the ini value.

The plugin passes its pytest config's values; the CLI builds a pytest config
the way its judge's run of pytest does (:func:`gradkata.runner.pytest_config`),
so that both read the same configuration file the same way. This module
imports only the standard library.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

OWN_FOLDERS = ("exercises", "solutions")


class BadImpl(Exception):
    """The setting names something that is not a folder."""


@dataclass(frozen=True)
class Impl:
    """The implementation being graded."""

    value: str  # what is passed to pytest's --impl: a kata folder's name, or an absolute path
    folder: Path  # the folder that holds the learner's modules
    label: str  # how it is named to the learner: "exercises/"
    source: str  # where the setting came from
    inifile: Optional[str] = None  # the configuration file pytest read it from, if known


def resolve(option: Optional[str], environment: Optional[str], ini: Optional[str],
            rootdir: Path, invocation_dir: Path) -> Impl:
    """The graded folder, from the option, the environment variable and the ini value."""
    value, source, base = option, "--impl", invocation_dir
    if not value:
        value, source = environment, "GRADKATA_IMPL"
    if not value:
        value, source, base = ini, "the ini value gradkata_impl", rootdir
    if not value:
        value, source = "exercises", "the default"
    if value in OWN_FOLDERS:
        folder = Path(rootdir) / value
    else:
        folder = Path(value).expanduser()
        if not folder.is_absolute():
            folder = Path(base) / folder
    if not folder.is_dir():
        raise BadImpl(f"{source} names '{value}', which is not a folder. Use 'exercises', "
                      "'solutions' or a folder holding the six exercise modules.")
    if value in OWN_FOLDERS:
        return Impl(value, folder, value + "/", source)
    folder = folder.resolve()
    return Impl(str(folder), folder, value.rstrip("/\\") + "/", source)
