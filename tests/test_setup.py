"""The two-command bootstrap: a wrong Python is refused clearly."""

import importlib.util
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _check_module():
    spec = importlib.util.spec_from_file_location("check_python", REPO / "scripts" / "check_python.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_python_311_passes():
    assert _check_module().check((3, 11, 7), "python3.11") is None
    assert subprocess.run([sys.executable, str(REPO / "scripts" / "check_python.py")]).returncode == 0


def test_other_pythons_get_a_message_saying_which_work_and_why():
    message = _check_module().check((3, 12, 1), "/usr/bin/python3")
    assert "needs Python 3.11, found 3.12.1" in message
    assert "tensorflow==2.15.1" in message and "make PYTHON=" in message


def test_requirements_pin_every_package_exactly():
    lines = [line.strip() for line in (REPO / "requirements.txt").read_text().splitlines()]
    requirements = [line for line in lines if line and not line.startswith("#")]
    assert all("==" in line for line in requirements), [l for l in requirements if "==" not in l]
    names = {line.split("==")[0].lower() for line in requirements}
    assert {"tensorflow", "tf-agents", "tensorflow-probability", "dm-reverb", "gymnasium",
            "pygame"} <= names
    assert "pygame-ce" not in names  # see README: pygame 2.1.3 chosen deliberately
