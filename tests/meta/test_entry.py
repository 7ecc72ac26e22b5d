"""gradkata's pytest entry point costs nothing in a project that is not a kata."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap


def test_a_project_that_is_not_a_kata_loads_no_numpy_and_no_gradkata_beyond_the_entry(tmp_path):
    (tmp_path / "conftest.py").write_text(textwrap.dedent('''
        import sys

        def pytest_sessionfinish(session):
            loaded = sorted(m for m in sys.modules
                            if m == "numpy" or m.startswith(("numpy.", "gradkata.")))
            print("LOADED:", ",".join(loaded))
    '''))
    (tmp_path / "test_plain.py").write_text("def test_plain():\n    assert 1 + 1 == 2\n")
    env = {k: v for k, v in os.environ.items() if k != "GRADKATA_IMPL"}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-s", "-p", "no:cacheprovider"],
                          cwd=tmp_path, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert "--impl" in subprocess.run([sys.executable, "-m", "pytest", "--help"], cwd=tmp_path,
                                      capture_output=True, text=True, env=env).stdout
    assert "LOADED: gradkata.entry\n" in proc.stdout, proc.stdout[-2000:]
