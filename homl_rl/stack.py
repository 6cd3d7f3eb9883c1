"""What a result was computed on: the package versions and the processor.

Pinned training numbers depend on the TensorFlow build and on the CPU's kernels, so every
data file, cache entry and benchmark result records :func:`stack_info`.
"""

import functools
import platform
import sys
from importlib import metadata

PACKAGES = ("tensorflow", "tf_keras", "keras", "numpy", "gymnasium", "tf-agents")
"""The distributions whose versions can change a number (absent ones are left out)."""


def cpu_model():
    """The processor's model name (``/proc/cpuinfo`` on Linux), else what ``platform`` knows."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


@functools.lru_cache(maxsize=1)
def stack_info():
    """``{"python": ..., "packages": {name: version}, "cpu": ...}`` of this process."""
    packages = {}
    for name in PACKAGES:
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return {"python": platform.python_version(), "packages": packages, "cpu": cpu_model()}


def stack_line():
    """:func:`stack_info` as one line, for results files: ``Python 3.11.7, tensorflow 2.15.1, …
    on CPU``, and, where TensorFlow ran in this process, ``(kernel class x86-avx512)``
    (:func:`homl_rl.kernels.kernel_class`)."""
    info = stack_info()
    versions = ", ".join(f"{name} {version}" for name, version in info["packages"].items())
    line = f"Python {info['python']}, {versions}, on {info['cpu']}"
    if "tensorflow" in sys.modules:
        from homl_rl.kernels import kernel_class

        line += f" (kernel class {kernel_class()})"
    return line


TF_AGENTS_NEEDS = ("TF-Agents 0.19 (its last release) needs TensorFlow 2.15 and Python 3.11: "
                   "use the reference stack (make PYTHON=3.11 ..., requirements.txt)")
"""Why a TF-Agents figure or command does not run on the current stack."""


@functools.lru_cache(maxsize=1)
def has_tf_agents():
    """Whether TF-Agents is installed (the reference stack): looked up, not imported."""
    import importlib.util

    return importlib.util.find_spec("tf_agents") is not None
