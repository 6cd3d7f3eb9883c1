"""Find a Python and say which of homl_rl's two pinned stacks it gets.

- Python 3.11: the *reference* stack, ``requirements.txt`` (TensorFlow 2.15.1, TF-Agents
  0.19, Reverb, NumPy 1.26): every pinned number and every committed figure byte.
- Python 3.12 and 3.13: the *current* stack, ``requirements-current.txt`` (the newest
  TensorFlow with Keras 2 through tf_keras, NumPy 2, no TF-Agents).

Interpreters are looked for on ``PATH`` (``python3.12``) and then under pyenv
(``pyenv versions --bare`` / ``pyenv prefix``), since a pyenv shim on ``PATH`` may answer
"command not found" for a version that is installed but not selected.

Used by the Makefile and .ci/run (runs on any Python 3)::

    python3 scripts/stack.py find 3.12        # the path of a working Python 3.12, or exit 1
    python3 scripts/stack.py resolve 3.12     # "EXE VERSION STACK REQUIREMENTS" (make words)
    python3 scripts/stack.py resolve /usr/bin/python3.11
    python3 scripts/stack.py describe 3.12    # the one line `make` prints
"""

import os
import re
import shutil
import subprocess
import sys

STACKS = {
    (3, 11): ("reference", "requirements.txt",
              "TensorFlow 2.15.1, TF-Agents 0.19, NumPy 1.26: the pinned numbers and figure bytes"),
    (3, 12): ("current", "requirements-current.txt",
              "newest TensorFlow + tf_keras, NumPy 2, no TF-Agents"),
    (3, 13): ("current", "requirements-current.txt",
              "newest TensorFlow + tf_keras, NumPy 2, no TF-Agents"),
}
"""Supported (major, minor) -> (stack name, requirements file, what it is)."""

SUPPORTED_TEXT = "3.11 (reference stack) or 3.12/3.13 (current stack)"
VERSION = re.compile(r"^(\d+)\.(\d+)$")


class NotFound(Exception):
    """No usable interpreter, or one homl_rl's stacks do not support (message says which)."""


def python_version(executable):
    """``(major, minor, micro)`` of ``executable``, or ``None`` if it does not run."""
    try:
        result = subprocess.run(
            [executable, "-c", "import sys; print(*sys.version_info[:3])"],
            capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    if result.returncode != 0:
        return None
    try:
        return tuple(int(part) for part in result.stdout.split())
    except ValueError:
        return None


def _pyenv_candidates(major, minor):
    """Executables of pyenv's installed ``major.minor.*`` versions, newest first."""
    versions = []
    pyenv = shutil.which("pyenv")
    if pyenv:
        try:
            listed = subprocess.run([pyenv, "versions", "--bare"], capture_output=True,
                                    text=True, timeout=60).stdout.split()
        except (OSError, subprocess.SubprocessError):
            listed = []
        versions = [v for v in listed if re.fullmatch(rf"{major}\.{minor}\.\d+", v)]
    root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    if not versions and os.path.isdir(os.path.join(root, "versions")):
        versions = [v for v in os.listdir(os.path.join(root, "versions"))
                    if re.fullmatch(rf"{major}\.{minor}\.\d+", v)]
    versions.sort(key=lambda v: tuple(int(p) for p in v.split(".")), reverse=True)
    for version in versions:
        prefix = None
        if pyenv:
            try:
                prefix = subprocess.run([pyenv, "prefix", version], capture_output=True,
                                        text=True, timeout=60).stdout.strip() or None
            except (OSError, subprocess.SubprocessError):
                prefix = None
        prefix = prefix or os.path.join(root, "versions", version)
        yield os.path.join(prefix, "bin", "python")


def find(version):
    """The path of a working Python ``version`` ("3.12"): ``PATH`` first, then pyenv."""
    match = VERSION.match(version)
    if not match:
        raise NotFound(f"error: expected a Python version like 3.12, got {version!r}")
    major, minor = int(match[1]), int(match[2])
    candidates = [shutil.which(f"python{major}.{minor}")]
    candidates += list(_pyenv_candidates(major, minor))
    for candidate in candidates:
        found = python_version(candidate) if candidate else None
        if found and found[:2] == (major, minor):
            return candidate
    raise NotFound(
        f"error: no Python {version} found (looked on PATH for python{version}, and in "
        f"`pyenv versions --bare`). Install it (e.g. `pyenv install {version}`) or pass "
        f"one: make PYTHON=/path/to/python{version} ...")


def stack_for(version_info):
    """``(stack name, requirements file, description)`` for a Python version, or NotFound."""
    key = tuple(version_info[:2])
    if key not in STACKS:
        found = ".".join(map(str, version_info[:3]))
        raise NotFound(
            f"error: homl_rl supports Python {SUPPORTED_TEXT}; found {found}.\n"
            "Why: the reference stack's TensorFlow 2.15.1 (needed by TF-Agents 0.19) has "
            "wheels for Python <= 3.11 only, and the current stack is tested on 3.12 and "
            "3.13 only.\nFix: make PYTHON=3.11 ... (or 3.12, 3.13, or a path to one).")
    return STACKS[key]


def resolve(python):
    """``(executable, "3.12", stack, requirements)`` for a version ("3.12") or a path."""
    executable = find(python) if VERSION.match(python) else (shutil.which(python) or python)
    version_info = python_version(executable)
    named = re.fullmatch(r"python(\d+\.\d+)", os.path.basename(python))
    if version_info is None and named:  # a shim for a version pyenv has not selected
        executable = find(named[1])
        version_info = python_version(executable)
    if version_info is None:
        raise NotFound(f"error: {python!r} does not run as a Python interpreter "
                       "(a pyenv shim for a version that is not selected answers "
                       "'command not found'); pass a version like 3.12 instead.")
    stack, requirements, _ = stack_for(version_info)
    return executable, f"{version_info[0]}.{version_info[1]}", stack, requirements


def describe(python):
    """The one line ``make`` prints: which Python, which stack, which venv."""
    executable, version, stack, requirements = resolve(python)
    what = STACKS[tuple(int(p) for p in version.split("."))][2]
    return (f"homl_rl: Python {version} ({executable}) -> {stack} stack, {requirements} "
            f"({what}), in .venv-{version}")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2 or argv[0] not in ("find", "resolve", "describe"):
        print(__doc__, file=sys.stderr)
        return 2
    command, python = argv
    try:
        if command == "find":
            print(find(python))
        elif command == "resolve":
            print(*resolve(python))
        else:
            print(describe(python))
    except NotFound as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
