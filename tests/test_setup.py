"""The two-command bootstrap: the Python chooses the stack; an unsupported one is refused clearly."""

import configparser
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

import homl_rl

REPO = Path(__file__).resolve().parents[1]


def _stack_script():
    spec = importlib.util.spec_from_file_location("stack_script", REPO / "scripts" / "stack.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _requirements(name):
    lines = [line.strip() for line in (REPO / name).read_text().splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def test_each_supported_python_gets_its_stack():
    stack = _stack_script()
    assert stack.stack_for((3, 11, 7))[:2] == ("reference", "requirements.txt")
    assert stack.stack_for((3, 12, 1))[:2] == ("current", "requirements-current.txt")
    assert stack.stack_for((3, 13, 0))[:2] == ("current", "requirements-current.txt")


@pytest.mark.parametrize("version", [(3, 10, 13), (3, 14, 0)])
def test_other_pythons_get_a_message_saying_which_work_and_why(version):
    stack = _stack_script()
    with pytest.raises(stack.NotFound) as error:
        stack.stack_for(version)
    message = str(error.value)
    assert f"found {'.'.join(map(str, version))}" in message
    assert "3.11" in message and "3.12" in message and "TensorFlow 2.15.1" in message
    assert "make PYTHON=" in message


def test_this_python_resolves_to_itself_and_its_stack():
    result = subprocess.run([sys.executable, str(REPO / "scripts" / "stack.py"), "resolve",
                             sys.executable], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    executable, version, stack, requirements = result.stdout.split()
    assert version == f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert (stack, requirements) == (
        ("reference", "requirements.txt") if sys.version_info[:2] == (3, 11)
        else ("current", "requirements-current.txt"))


def test_a_missing_version_is_a_clear_error_not_a_silent_skip():
    result = subprocess.run([sys.executable, str(REPO / "scripts" / "stack.py"), "find", "3.99"],
                            capture_output=True, text=True)
    assert result.returncode == 1 and result.stdout == ""
    assert "no Python 3.99 found" in result.stderr and "pyenv" in result.stderr


@pytest.mark.parametrize("name", ["requirements.txt", "requirements-current.txt"])
def test_requirements_pin_every_package_exactly(name):
    requirements = _requirements(name)
    assert all("==" in line for line in requirements), [l for l in requirements if "==" not in l]
    names = {line.split("==")[0].lower().replace("_", "-") for line in requirements}
    assert {"tensorflow", "gymnasium", "pygame", "numpy", "pytest-xdist"} <= names
    assert "pygame-ce" not in names  # see requirements.txt: both install `pygame`, never both


def test_the_reference_stack_has_tf_agents_and_the_current_one_tf_keras_instead():
    reference = {l.split("==")[0].lower(): l.split("==")[1] for l in _requirements("requirements.txt")}
    current = {l.split("==")[0].lower().replace("_", "-"): l.split("==")[1]
               for l in _requirements("requirements-current.txt")}
    assert {"tf-agents", "tensorflow-probability", "dm-reverb"} <= set(reference)
    assert reference["tensorflow"] == "2.15.1" and reference["numpy"].startswith("1.")
    assert not {"tf-agents", "tensorflow-probability", "dm-reverb"} & set(current)
    # tf_keras of TensorFlow's minor version; NumPy 2
    assert current["tf-keras"].split(".")[:2] == current["tensorflow"].split(".")[:2]
    assert int(current["numpy"].split(".")[0]) >= 2


def test_version_and_python_requires_claim_what_ci_tests():
    config = configparser.ConfigParser()
    config.read(REPO / "setup.cfg")
    assert config["metadata"]["version"] == homl_rl.__version__ == "0.2.0"
    assert config["options"]["python_requires"] == ">=3.11,<3.14"
    assert "## 0.2.0" in (REPO / "CHANGELOG.md").read_text()
    ci = (REPO / ".ci" / "run").read_text()
    assert "make PYTHON=3.11 test" in ci and "make PYTHON=3.12 test" in ci
    assert "for version in 3.11 3.12 3.13" in ci  # every Python CI tests is looked for first
