"""Ray, an optional dependency: its import with a clear error, and a session to run in.

Ray runs MuZero's roles as actors (:mod:`homl_rl.muzero.distributed`) and a study's runs
as tasks (``homl-rl studies --ray``). It is optional for readers: ``pip install
"homl_rl[ray]"`` (both requirements files pin it). Nothing imports Ray at module level;
:func:`import_ray` does, when a run asks for it::

    with ray_session(address=None, num_cpus=2) as ray:
        ray.get(ray.remote(f).remote())
"""

import contextlib
import logging

from homl_rl.quiet import is_verbose

RAY_NEEDED = 'Ray is not installed: pip install "homl_rl[ray]"'
"""What a run that needs Ray says when it is missing."""


def has_ray():
    """Whether Ray can be imported (without importing it)."""
    import importlib.util

    return importlib.util.find_spec("ray") is not None


def import_ray():
    """The ``ray`` module, or an ``ImportError`` saying how to install it."""
    try:
        import ray
    except ImportError:
        raise ImportError(RAY_NEEDED) from None
    return ray


@contextlib.contextmanager
def ray_session(address=None, num_cpus=None):
    """Yield the ``ray`` module, initialised: on the cluster at ``address`` (``"auto"``, or
    ``"ray://host:10001"``...), or a new local instance of ``num_cpus`` CPUs (default: all)
    when ``address`` is ``None``. If Ray is already initialised in this process, that
    session is used as it is and left running; otherwise the session started here is shut
    down on leaving. No dashboard; the workers' output stays in Ray's log files (the
    session's ``logs`` folder) unless ``HOML_RL_VERBOSE=1``."""
    ray = import_ray()
    started = not ray.is_initialized()
    if started:
        verbose = is_verbose()
        ray.init(address=address, num_cpus=None if address is not None else num_cpus,
                 include_dashboard=False, log_to_driver=verbose,
                 logging_level=logging.INFO if verbose else logging.ERROR)
    try:
        yield ray
    finally:
        if started:
            ray.shutdown()
