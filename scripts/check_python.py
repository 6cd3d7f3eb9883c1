"""Refuse, with a clear message, a Python the pinned stack cannot install on."""
import sys

SUPPORTED = (3, 11)


def check(version_info=sys.version_info, executable=sys.executable):
    """Return an error message for an unsupported Python, or ``None``."""
    if tuple(version_info[:2]) == SUPPORTED:
        return None
    found = ".".join(map(str, version_info[:3]))
    return (
        f"error: homl_rl's pinned stack needs Python 3.11, found {found} ({executable}).\n"
        "Why: tensorflow==2.15.1 (required by tf-agents 0.19.0 through "
        "tensorflow-probability 0.23) has wheels for Python 3.9-3.11 only, and our "
        "pinned numbers were produced on 3.11.\n"
        "Fix: install Python 3.11 and run `make PYTHON=/path/to/python3.11 ...`."
    )


if __name__ == "__main__":
    message = check()
    if message:
        sys.exit(message)
