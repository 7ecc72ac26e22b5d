"""The Gradescope bundle's run_autograder, run for real in a simulated Gradescope layout.

The bundle is built with ``gradkata gradescope-bundle`` and unpacked as
``<root>/autograder/source``, a private hidden test is added beside the graded
ones (as an instructor adds one), a submission goes to
``<root>/autograder/submission``, and ``run_autograder`` runs as root with the
root, the Python and the sandbox user replaced by a temporary root, a venv of
the test's and a temporary unprivileged user.

setup.sh is not run (it apt-installs). Its venv is built here instead:
``python -m venv`` with an interpreter of this Python's version that the
temporary user can read (this Python, or the system's when this one lives in
root's home, as pyenv's does), gradkata installed into it from the unpacked
source with pip, not editable, as setup.sh does, and the other dependencies
(numpy, pytest, hypothesis) read from this test environment's site-packages
through a ``.pth`` file instead of downloaded again. What the test relies on is
what setup.sh gives: a venv of its own holding a copy of the gradkata package
(no reference code), and a Python installation the student's uid can read.
What differs: this machine also holds the kata's working copy, readable by
anyone; on Gradescope only ``/autograder/source`` holds it. So the attacks
below aim at the Gradescope paths.

These need root (useradd, and running the judge as root as Gradescope does):
CI runs as root; elsewhere they are skipped and say why.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import uuid
import zipfile
from pathlib import Path

import pytest

from gradkata import catalog

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform != "linux", reason="Gradescope's layout is Linux's"),
    pytest.mark.skipif(
        not hasattr(os, "geteuid") or os.geteuid() != 0,
        reason="needs root: it creates a temporary unprivileged user with useradd and runs "
               "run_autograder as root, as Gradescope does (CI runs as root)"),
]

PRIVATE_POINTS = 5
SECRET_INPUT = "73.0625"  # the private test's input: it must show nowhere in the results
SECRET_NOTE = "instructor-only note 5f3a"  # a comment in the private test file
PRIVATE_TEST = f'''"""A private test, as an instructor adds one: hidden from students."""
import pytest

pytestmark = pytest.mark.visibility("hidden")
# {SECRET_NOTE}


def test_y_hat_at_the_private_point(learner, reference):
    args = ({SECRET_INPUT}, -0.5, [0.25, 2.0, -1.5])
    got, want = learner.y_hat(*args), reference.y_hat(*args)
    assert got == pytest.approx(want), f"y_hat{{args}} returned {{got}}, expected {{want}}"
'''
# A line of the reference that no submission below contains.
REFERENCE_LINE = "return float(x_1 * w[0] + x_2 * w[1] + w[2])"


def reference_modules():
    return {p.name: p.read_text() for p in sorted((ROOT / "solutions").glob("*.py"))
            if p.name != "__init__.py"}


def without_bias():
    source = (ROOT / "solutions" / "single_neuron.py").read_text()
    assert source.count(REFERENCE_LINE) == 1
    return source.replace(REFERENCE_LINE, "return float(x_1 * w[0] + x_2 * w[1])")


def _run_as(user, args, **kwargs):
    return subprocess.run(args, user=user, group=user, extra_groups=[], capture_output=True,
                          text=True, timeout=120, **kwargs)


@pytest.fixture(scope="module")
def student():
    name = f"gk-{uuid.uuid4().hex[:10]}"
    created = subprocess.run(["useradd", "--create-home", "--shell", "/usr/sbin/nologin",
                              name], capture_output=True, text=True)
    assert created.returncode == 0, created.stderr
    try:
        yield name
    finally:
        removed = subprocess.run(["userdel", "-r", name], capture_output=True, text=True)
        assert removed.returncode == 0, removed.stderr


def _python_the_user_can_read(user):
    """An interpreter of this Python's version whose installation ``user`` can read."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    candidates = [Path(sys.base_prefix) / "bin" / version, Path("/usr/bin") / version,
                  Path("/usr/local/bin") / version]
    for candidate in candidates:
        if not candidate.is_file():
            continue
        try:
            probe = _run_as(user, [str(candidate), "-I", "-c", "import json, sysconfig"])
        except PermissionError:  # the user cannot even reach the interpreter
            continue
        if probe.returncode == 0:
            return candidate
    pytest.skip(f"no {version} here whose installation an unprivileged user can read "
                f"(tried {', '.join(map(str, candidates))})")


def _copy_runtime_distributions(site):
    """Copy the installed distributions gradkata needs at run time (its requirements,
    followed through theirs) into ``site``."""
    import importlib.metadata as metadata

    from packaging.requirements import Requirement

    seen, todo = {"gradkata"}, [Requirement(r) for r in metadata.requires("gradkata") or []]
    while todo:
        requirement = todo.pop()
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        name = requirement.name.lower().replace("_", "-")
        if name in seen:
            continue
        seen.add(name)
        distribution = metadata.distribution(requirement.name)
        todo += [Requirement(r) for r in distribution.requires or []]
        for file in distribution.files or []:
            source = Path(str(distribution.locate_file(file)))
            target = site / file
            if source.is_file() and not str(file).startswith(".."):
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target)


@pytest.fixture(scope="module")
def layout(student):
    """The bundle unpacked, with a private test, and the venv setup.sh would make."""
    base = Path(tempfile.mkdtemp(prefix="gradkata-gradescope-"))
    try:
        base.chmod(0o755)  # the temporary user must reach the venv below, as /opt
        bundle = base / "autograder.zip"
        proc = subprocess.run([sys.executable, "-m", "gradkata", "gradescope-bundle",
                               str(bundle), "--timeout", "10"],
                              cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        source = base / "source"
        with zipfile.ZipFile(bundle) as archive:
            archive.extractall(source)
        (source / "tests" / "test_single_neuron_private.py").write_text(PRIVATE_TEST)
        (source / "tests" / "points.toml").write_text(  # its points, beside it
            f"[single_neuron]\ntest_y_hat_at_the_private_point = {PRIVATE_POINTS}\n")
        venv = base / "opt" / "gradkata"
        subprocess.run([str(_python_the_user_can_read(student)), "-m", "venv",
                        "--without-pip", str(venv)], check=True, timeout=120)
        site = Path(subprocess.run(
            [str(venv / "bin" / "python"), "-c",
             "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True, text=True, check=True).stdout.strip())
        (site / "test-environment.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
        # pip comes from this environment, through the .pth file; it builds gradkata's
        # wheel with the build backend pyproject.toml names, as setup.sh's pip does.
        install = subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps",
             "--ignore-installed", str(source)],
            capture_output=True, text=True, timeout=300)
        assert install.returncode == 0, install.stdout + install.stderr
        # The test environment itself may be closed to other users (tox keeps .tox
        # private): the venv gets its own copy of what the kata runs on, as setup.sh's
        # pip would install it, and the .pth that lent pip goes.
        (site / "test-environment.pth").unlink()
        _copy_runtime_distributions(site)
        probe = _run_as(student, [str(venv / "bin" / "python"), "-I", "-c",
                                  "import numpy, gradkata.sandbox"], cwd="/")
        if probe.returncode != 0:
            pytest.skip("the temporary user cannot import numpy from this test environment "
                        f"({sysconfig.get_paths()['purelib']}): {probe.stderr[-300:]}")
        yield {"base": base, "source": source, "venv": venv, "site": site}
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def autograder(layout, student):
    """Run run_autograder on a submission (files by path; a Path value makes a link)."""
    roots = []

    def run(files, user=student, isolation=None):
        top = Path(tempfile.mkdtemp(dir=layout["base"]))
        top.chmod(0o755)
        roots.append(top)
        root = top / "autograder"
        shutil.copytree(layout["source"], root / "source", symlinks=True)
        shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
        (root / "run_autograder").chmod(0o755)
        (root / "results").mkdir()
        (root / "submission_metadata.json").write_text('{"users": []}')
        for rel, content in files.items():
            path = root / "submission" / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, Path):
                path.symlink_to(str(content).replace("ROOT_OF_AUTOGRADER", str(root)))
            else:
                path.write_text(content.replace("ROOT_OF_AUTOGRADER", str(root)))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GRADKATA", "PYTEST"))}
        env.update(GRADKATA_AUTOGRADER_ROOT=str(root), GRADKATA_SANDBOX_USER=user,
                   GRADKATA_PYTHON=str(layout["venv"] / "bin" / "python"))
        if isolation:
            env["GRADKATA_ISOLATION"] = isolation
        proc = subprocess.run([str(root / "run_autograder")], cwd=root, env=env,
                              capture_output=True, text=True, timeout=600)
        results = root / "results" / "results.json"
        data = json.loads(results.read_text()) if results.exists() else None
        return proc, data, root

    yield run
    for top in roots:
        shutil.rmtree(top, ignore_errors=True)


def _hidden(data):
    return [t for t in data["tests"] if t["visibility"] == "hidden"]


def test_a_correct_upload_gets_every_point_with_the_private_test_hidden(autograder):
    proc, data, _ = autograder(reference_modules())
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    schema = json.loads((Path(__file__).parent / "gradescope.schema.json").read_text())
    pytest.importorskip("jsonschema").validate(data, schema)
    assert all(t["status"] == "passed" for t in data["tests"]), json.dumps(data)[:3000]
    assert data["score"] == sum(t["max_score"] for t in data["tests"])
    hidden = _hidden(data)
    assert [(h["max_score"], h["output"]) for h in hidden] == [(PRIVATE_POINTS, "")]
    assert "Files graded from your upload:\n  single_neuron.py: single_neuron.py\n" \
        in data["output"]
    assert "also found" not in data["output"]
    assert "gradkata-upload-" not in data["output"]  # the grader's temporary folder


def test_a_broken_module_fails_with_messages_and_the_hidden_test_keeps_its_secret(autograder):
    proc, data, _ = autograder({**reference_modules(), "single_neuron.py": without_bias()})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    single = [t for t in data["tests"] if t["tags"] == ["single_neuron"]
              and t["visibility"] == "visible"]
    assert any(t["status"] == "failed" and t["output"] for t in single)
    number = next(e.number for e in catalog.EXERCISES if e.name == "single_neuron")
    assert [(h["status"], h["output"]) for h in _hidden(data)] == [
        ("failed", f"A hidden test of exercise {number} (single_neuron) failed.")]
    assert data["score"] == sum(t["max_score"] for t in data["tests"]
                                if t["status"] == "passed")
    text = json.dumps(data)
    assert SECRET_INPUT not in text and "private_point" not in text
    # What the grader printed (for the instructor only) has the hidden test's message:
    # the secret was there to leak, and the results kept it out.
    assert SECRET_INPUT in proc.stdout


def test_duplicates_are_graded_by_the_documented_rule_and_named(autograder):
    files = {f"hw/{name}": text for name, text in reference_modules().items()}
    files["hw/old/single_neuron.py"] = without_bias()  # deeper: ignored
    files["zz/vectorized.py"] = "raise SystemExit('not this one')\n"  # as deep, later: ignored
    # A link to the reference is not followed: loop_gradients counts as not there.
    files["hw/loop_gradients.py"] = Path("ROOT_OF_AUTOGRADER/source/solutions/loop_gradients.py")
    proc, data, _ = autograder(files)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = data["output"]
    assert "  single_neuron.py: hw/single_neuron.py; also found and ignored: " \
           "hw/old/single_neuron.py\n" in out
    assert "  vectorized.py: hw/vectorized.py; also found and ignored: zz/vectorized.py\n" in out
    assert "  loop_gradients.py: not found (its tests count as not started); ignored as " \
           "links, not files: hw/loop_gradients.py\n" in out
    assert "the copy nearest the top of the upload (the fewest folders deep) is graded" in out
    failed = {t["tags"][0] for t in data["tests"] if t["status"] == "failed"}
    assert failed == {"loop_gradients"}


ATTACK = '''
import glob, os

ROOT = "ROOT_OF_AUTOGRADER"
LEAK = "/tmp/gradkata-leak-" + "LEAK_ID"


def _try(path):
    try:
        if os.path.isdir(path):
            return "ATTACK-LISTED " + path + ": " + " ".join(os.listdir(path))
        with open(path) as f:
            return "ATTACK-READ " + path + ": " + f.read()
    except OSError as exc:
        return "refused " + path + ": " + type(exc).__name__


_done = []


def y_hat(x_1, x_2, w):
    # Remember every input, across calls and workers.
    with open(LEAK, "a") as f:
        f.write(repr((x_1, x_2)) + "\\n")
    if _done:
        return float(np.dot([x_1, x_2, 1.0], w))
    _done.append(True)
    print("uid", os.getuid())
    for path in [ROOT + "/source/tests/test_single_neuron_private.py",
                 ROOT + "/source/solutions/single_neuron.py", ROOT + "/source/tests",
                 ROOT + "/source", ROOT + "/results", ROOT + "/submission_metadata.json",
                 "solutions/single_neuron.py", "tests/test_single_neuron_private.py",
                 "/proc/%d/cwd/solutions/single_neuron.py" % os.getppid()]:
        print(_try(path))
    print(glob.glob(ROOT + "/source/**/*private*", recursive=True))
    with open(LEAK) as f:
        print("inputs seen so far:", f.read())
    return float(np.dot([x_1, x_2, 1.0], w))
'''


def attacking_module(leak_id):
    """single_neuron.py with an attack in y_hat, whose answers are right."""
    source = without_bias().replace("def y_hat(x_1, x_2, w):", "def _unused(x_1, x_2, w):")
    return source + ATTACK.replace("LEAK_ID", leak_id)


# Gradescope's containers may forbid user namespaces (Docker's default seccomp
# profile does): then the student user's file permissions are the only wall, and
# "processes" tests them alone. Where the jail can be built, it stands in front.
@pytest.mark.parametrize("isolation", ["processes", None], ids=["uid-only", "jail-if-possible"])
def test_the_students_code_reads_nothing_of_the_kata(autograder, student, isolation):
    leak_id = uuid.uuid4().hex
    rest = {k: v for k, v in reference_modules().items() if k != "single_neuron.py"}
    before = [p for p in Path("/tmp").glob("gradkata-leak-*")]
    try:
        proc, data, root = autograder(
            {**rest, "single_neuron.py": attacking_module(leak_id)}, isolation=isolation)
    finally:
        for leak in set(Path("/tmp").glob(f"gradkata-leak-{leak_id}")) - set(before):
            leak.unlink()
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    if isolation == "processes":
        assert "gradkata: isolation: processes only" in proc.stdout
    text = json.dumps(data)
    import pwd  # Unix only, as this test

    # The attack ran, as the sandbox user, and every read was refused.
    assert f"uid {pwd.getpwnam(student).pw_uid}" in text
    error = "PermissionError" if isolation == "processes" else ""  # else not even there
    assert f"refused {root}/source/solutions/single_neuron.py: {error}" in text
    assert f"refused {root}/results: {error}" in text
    assert "ATTACK-READ" not in text and "ATTACK-LISTED" not in text
    for secret in (SECRET_INPUT, SECRET_NOTE, REFERENCE_LINE, "private_point"):
        assert secret not in text, secret
    # Its code is correct: the attack costs it nothing, and it gains nothing either.
    assert data["score"] == sum(t["max_score"] for t in data["tests"])


def test_the_installed_package_carries_no_reference_code(layout):
    installed = layout["site"] / "gradkata"
    files = {p.relative_to(installed).as_posix() for p in installed.rglob("*")
             if p.is_file() and "__pycache__" not in p.parts}
    shipped = {p.relative_to(ROOT / "gradkata").as_posix() for p in (ROOT / "gradkata").rglob("*")
               if p.is_file() and "__pycache__" not in p.parts}
    assert files == shipped

    def bodies(path):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef):
                body = node.body[1:] if ast.get_docstring(node) else node.body
                yield ast.dump(ast.Module(body=body, type_ignores=[]))

    reference = {b for p in (ROOT / "solutions").glob("*.py") for b in bodies(p)}
    shipped_bodies = {b for p in installed.rglob("*.py") for b in bodies(p)}
    assert reference and not reference & shipped_bodies


def test_a_grader_that_cannot_grade_writes_no_score_and_fails(autograder, layout):
    # A private test with a syntax error: pytest cannot collect, exit status 2.
    broken = layout["source"] / "tests" / "test_vectorized_private.py"
    broken.write_text("def test_(:\n")
    try:
        proc, data, _ = autograder(reference_modules())
    finally:
        broken.unlink()
    assert proc.returncode != 0 and data is None
    assert "grading failed: pytest ended with status 2" in proc.stdout
    # No such sandbox user: grading would run the student's code as root, or not at all.
    proc, data, _ = autograder(reference_modules(), user="no-such-user-here")
    assert proc.returncode != 0 and data is None
    assert "the sandbox user 'no-such-user-here' does not exist" in proc.stdout
