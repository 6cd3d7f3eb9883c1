"""The worker process of ``homl-rl crosscheck``: runs the reader's code, away from us.

Started by :class:`homl_rl.crosscheck.client.Worker` as
``python -m homl_rl.crosscheck.worker RFD WFD``
with a fresh temporary directory as its working directory. It reads requests from
file descriptor ``RFD`` and writes answers to ``WFD`` (length-prefixed pickles), so
whatever the reader's code prints cannot corrupt the protocol.

Requests (dicts, ``op`` says which):

- ``load``: ``cells`` = ``[(filename, source, kept_linenos)]``; exec the kept statements
  of each cell, in order, in one namespace; remember each statement's value by its id
  ``(cell index, lineno)``. A set-up import (``setup_imports``: ids) of a module that is
  missing here (``google.colab`` outside Colab) binds a :class:`SetupStub` instead.
- ``call``: call the definition ``stmt`` with ``calls`` = ``[(args, kwargs)]`` one after
  the other, after setting ``globals`` in the reader's namespace and seeding with
  ``seed``; return each result (TensorFlow tensors as NumPy arrays), what it printed,
  and the ``collect`` globals afterwards.
- ``call_seeds``: ``call`` once per ``(seed, calls)`` of ``runs``: a list of answers.
- ``run_loop``: run a training loop of the reader's (``stmts``: its preamble and the loop,
  by id) with the names of ``bindings`` set to the definitions above it, ``globals`` set,
  seeded with ``seed``, and the environment (or Q-learning's ``step``) recorded and
  stopped at its budget (:mod:`homl_rl.crosscheck.recording`); returns the record, what
  stopped the loop, and the error it raised if it did. The namespace is put back after.

An error answers ``{"error": traceback, "raised": ...}`` (:func:`raised_summary`: what
:mod:`homl_rl.crosscheck.breakages` recognises a line of the book that a newer library
rejects by).

Values that cannot cross a pipe as pickles (models, optimizers, environments) cross
as small specs (tuples tagged ``"__model__"``, ``"__optimizer__"``, ``"__env__"``, ...)
and are rebuilt here.

The worker's environment is set up for Keras 2 before anything runs
(:func:`keras_2_environment`), whatever the reader's set-up asked for. A failure of that
set-up (TensorFlow or Keras that cannot be imported here) answers ``{"setup": message}``:
a problem of the environment, reported once at the top of the report, not in a row.

TensorFlow is imported only when a spec needs it (a model, a tensor, a loss): a check of
NumPy code then runs without it, and :meth:`ReaderWorker.seed` seeds TensorFlow only
once the reader's code or a spec has imported it. The worker's address space is capped
(:data:`MEMORY_LIMIT`), so a runaway allocation is a ``MemoryError`` in one row.
"""

import ast
import contextlib
import copy
import importlib
import io
import linecache
import os
import pickle
import random
import struct
import sys
import traceback
from collections import deque
from pathlib import Path
from typing import NamedTuple

import gymnasium as gym
import numpy as np


LEGACY_KERAS_TRUE = ("true", "True", "1")
"""the values of ``TF_USE_LEGACY_KERAS`` that TensorFlow reads as set (2.15 to 2.21 alike:
``os.environ.get("TF_USE_LEGACY_KERAS", None) in ("true", "True", "1")``); any other value,
``"0"`` included, is as if it were unset"""


class KerasOverride(NamedTuple):
    """A reader's ``TF_USE_LEGACY_KERAS`` that :func:`keras_2_environment` had to override."""
    old: str
    """the reader's value"""
    new: str
    """what the cross-check ran with (``None``: unset)"""
    breaks_tf_keras: bool
    """whether the reader's value makes ``tf.keras`` fail to import in this environment
    (TensorFlow 2.15 told to use ``tf_keras``, which is not installed): a set-up problem;
    otherwise the value only asks for a Keras the book's code does not use: a note"""

    def message(self):
        """What the report says about it."""
        new = "unset" if self.new is None else repr(self.new)
        if self.breaks_tf_keras:
            return (f"your environment sets TF_USE_LEGACY_KERAS={self.old!r}, with which the "
                    "installed TensorFlow cannot import tf.keras (it looks for tf_keras, which is "
                    f"not installed): the cross-check ran with it {new}; unset it")
        return (f"your environment sets TF_USE_LEGACY_KERAS={self.old!r}; the book's code is "
                f"Keras 2 code, so the cross-check ran with it {new}, as the book's notebook "
                "sets it itself")


def keras_2_environment(environ):
    """Set ``TF_USE_LEGACY_KERAS`` in ``environ`` as :mod:`homl_rl.tf_setup` needs it.

    TensorFlow >= 2.16 gives Keras 2 through ``tf_keras`` only with the variable set (to
    one of :data:`LEGACY_KERAS_TRUE`); TensorFlow 2.15 has Keras 2 built in and, with the
    variable set, looks for ``tf_keras`` and fails at the first ``tf.keras`` if it is absent.
    The book's notebook sets it to ``"1"`` unconditionally.

    Returns a :class:`KerasOverride` when the reader's value meant something else than what
    TensorFlow needs here (``"0"`` on 2.16+, a set value on 2.15), else ``None``: an unset
    variable on 2.16+ is the usual case (the notebook sets it itself; so do we, as
    :mod:`homl_rl.tf_setup` does), and ``"True"`` means what ``"1"`` means.
    """
    import importlib.metadata
    import importlib.util

    version = None
    for distribution in ("tensorflow", "tensorflow-cpu", "tensorflow-macos", "tf-nightly"):
        try:
            version = importlib.metadata.version(distribution)
            break
        except importlib.metadata.PackageNotFoundError:
            continue
    if version is None:
        return None
    wants_legacy = tuple(int(p) for p in version.split(".")[:2]) >= (2, 16)
    old = environ.get("TF_USE_LEGACY_KERAS")
    if (old in LEGACY_KERAS_TRUE) == wants_legacy:
        return None
    if wants_legacy:
        environ["TF_USE_LEGACY_KERAS"] = "1"
        return None if old is None else KerasOverride(old, "1", False)
    del environ["TF_USE_LEGACY_KERAS"]
    return KerasOverride(old, None, importlib.util.find_spec("tf_keras") is None)


class SetupProblem(Exception):
    """The worker's environment cannot run a check (TensorFlow cannot be imported here)."""


class SetupStub:
    """What a missing set-up module (``google.colab``, ``tf_keras``) is bound to: unusable."""

    def __init__(self, name):
        self.__name = name

    def __getattr__(self, attribute):
        raise ModuleNotFoundError(f"{self.__name} is not installed here: the cross-check "
                                  "replaced this set-up import by a stub")

    def __call__(self, *args, **kwargs):
        return self.__getattr__("__call__")

    def __repr__(self):
        return f"<stub for {self.__name}>"


def _tensorflow():
    """TensorFlow, set up as homl_rl sets it up; a :class:`SetupProblem` if it cannot load."""
    try:
        from homl_rl.tf_setup import tf

        tf.keras.utils  # noqa: B018 -- the first tf.keras access is where Keras loads
        return tf
    except (ImportError, RecursionError, AttributeError) as error:
        raise SetupProblem(f"TensorFlow/Keras cannot be imported in the checking process "
                           f"({type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}); "
                           "the TensorFlow checks cannot run in this environment") from None


def read_message(fd):
    """The next message on ``fd`` (an 8-byte length, then a pickle), or ``None`` at its end."""
    header = _read_exactly(fd, 8)
    if header is None:
        return None
    (size,) = struct.unpack("<Q", header)
    return pickle.loads(_read_exactly(fd, size))


def _read_exactly(fd, size):
    chunks = []
    while size:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def write_message(fd, message):
    """Send ``message`` on ``fd`` as :func:`read_message` reads it."""
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    data = struct.pack("<Q", len(data)) + data
    while data:
        written = os.write(fd, data)
        data = data[written:]


def short_traceback(limit=6):
    """The reader's part of the current traceback: its last frames and the error line."""
    kind, error, tb = sys.exc_info()
    frames = [frame for frame in traceback.extract_tb(tb)
              if Path(frame.filename).resolve() != Path(__file__).resolve()]
    lines = [f"  {frame.filename}, line {frame.lineno}, in {frame.name}: {(frame.line or '').strip()}"
             for frame in frames[-limit:]]
    message = "".join(traceback.format_exception_only(kind, error)).strip().splitlines()
    return "\n".join(lines + message[-1:])


def raised_summary(error):
    """What :mod:`.breakages` matches a raised ``error`` on: its type, message and frames' lines."""
    frames = traceback.extract_tb(error.__traceback__)
    return {"type": type(error).__name__, "message": str(error),
            "frames": [(f"{frame.filename}, line {frame.lineno}, in {frame.name}",
                        (frame.line or "").strip()) for frame in frames]}


class ReaderWorker:
    """The reader's namespace, and the requests (``op``) it answers: one method each."""

    def __init__(self):
        self.namespace = {"__name__": "__reader__", "__builtins__": __builtins__}
        self.values = {}
        self.shared_envs = {}
        self.cells = []

    # --- load ----------------------------------------------------------------------
    def load(self, cells, setup_imports=()):
        errors, notes = [], []
        self.cells = cells
        setup_imports = {tuple(stmt_id) for stmt_id in setup_imports}
        for cell_index, (filename, source, kept) in enumerate(cells):
            lines = source.splitlines(keepends=True)
            linecache.cache[filename] = (len(source), None, lines, filename)
            tree = ast.parse(source, filename)
            kept = set(kept)
            for stmt in tree.body:
                if stmt.lineno not in kept:
                    continue
                code = compile(ast.Module(body=[stmt], type_ignores=[]), filename, "exec")
                try:
                    with contextlib.redirect_stdout(io.StringIO()):
                        exec(code, self.namespace)
                except BaseException as error:  # noqa: BLE001 -- the reader's code: anything goes
                    where = f"{filename}, line {stmt.lineno}"
                    if (cell_index, stmt.lineno) in setup_imports and isinstance(error, ImportError):
                        for alias in stmt.names:
                            bound = alias.asname or alias.name.split(".")[0]
                            self.namespace[bound] = SetupStub(alias.name)
                        notes.append(f"{where}: set-up import `{ast.unparse(stmt)}` skipped "
                                     f"({type(error).__name__}: {error}); a stub stands for it")
                        continue
                    if isinstance(stmt, (ast.Import, ast.ImportFrom, ast.FunctionDef,
                                         ast.AsyncFunctionDef, ast.ClassDef)):
                        trace = short_traceback().splitlines()
                        statement = ast.unparse(stmt).splitlines()[0]
                        errors.append("\n".join([f"{where}: {statement}: {trace[-1]}"] + trace[1:-1]))
                    else:
                        notes.append(f"{where}: not evaluated ({short_traceback().splitlines()[-1]})")
                    continue
                for name in _defined_names(stmt):
                    if name in self.namespace:
                        self.values[(cell_index, stmt.lineno)] = self.namespace[name]
        return {"errors": errors, "notes": notes}

    def value(self, stmt):
        return plain(self.values[tuple(stmt)])

    def snippet(self, code, variables, result):
        """Run a few skipped top-level lines (the dueling cell's formula) on given inputs."""
        # the reader's functions read their globals: set the variables there, and run the
        # lines in a copy, so that what they assign does not clobber the reader's names
        self.namespace.update({name: self.resolve(value) for name, value in variables.items()})
        namespace = dict(self.namespace)
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(code, "<snippet>", "exec"), namespace)
        return plain(namespace[result])

    # --- call ----------------------------------------------------------------------
    def call(self, stmt, calls, globals=None, seed=None, collect=(), method=None):
        function = self.values[tuple(stmt)]
        self.shared_envs = {}
        for name, value in (globals or {}).items():
            self.namespace[name] = self.resolve(value)
        self.seed(seed)
        results, printed = [], []
        for args, kwargs in calls:
            args = [self.resolve(arg) for arg in args]
            kwargs = {key: self.resolve(value) for key, value in kwargs.items()}
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                if method is not None:  # a class: build once, then call methods
                    result = self.call_methods(function, method, args)
                else:
                    result = function(*args, **kwargs)
            results.append(plain(result))
            printed.append(out.getvalue())
        collected = {name: plain(self.namespace.get(name)) for name in collect}
        return {"results": results, "printed": printed, "collected": collected}

    def call_seeds(self, stmt, runs, globals=None, collect=(), method=None):
        """:meth:`call` once per ``(seed, calls)`` of ``runs``, the globals set afresh each time."""
        return [self.call(stmt, calls, globals, seed, collect, method) for seed, calls in runs]

    # --- run_loop -------------------------------------------------------------------
    def run_loop(self, stmts, bindings, globals, seed, recorder, output_cap=20_000):
        """Run the reader's loop ``stmts`` (ids, its preamble first), recorded (see the module).

        ``recorder``: ``{"kind": "env", "env_id", "episodes", "seconds", "watch"}`` (the
        loop's ``env`` is a :class:`~homl_rl.crosscheck.recording.RecordingEnv`; ``watch``:
        the global whose weights are recorded after each episode) or ``{"kind": "step",
        "iterations", "seconds"}`` (the reader's ``step`` is wrapped in a
        :class:`~homl_rl.crosscheck.recording.RecordingStep`). The reader's
        ``tf.random.set_seed(s)`` seeds as :meth:`seed` does, as everywhere here.
        """
        import time

        from homl_rl.crosscheck.recording import (
            BudgetReached, CappedOutput, RecordingEnv, RecordingStep)

        saved = dict(self.namespace)
        restore = []
        out = CappedOutput(output_cap)
        answer = {"error": None, "missing": None}
        try:
            for name, stmt_id in bindings.items():
                if tuple(stmt_id) in self.values:
                    self.namespace[name] = _fresh(self.values[tuple(stmt_id)])
            for name, value in globals.items():
                self.namespace[name] = self.resolve(value)
            deadline = time.monotonic() + recorder["seconds"]
            if recorder["kind"] == "env":
                watch = recorder.get("watch")
                env = gym.make(recorder["env_id"])
                env.reset(seed=seed)  # the notebook's env, reset at its seed in its first cells
                env = RecordingEnv(env, recorder.get("episodes"), deadline,
                                   (lambda: self.namespace.get(watch)) if watch else None,
                                   recorder.get("expected"))
                self.namespace["env"] = env
                record = env.record
            else:
                record = RecordingStep(self.namespace["step"], lambda: self.namespace.get("Q_values"),
                                       recorder.get("iterations"), deadline)
                self.namespace["step"] = record
            self.seed(seed)
            if "tensorflow" in sys.modules:  # the reader's tf.random.set_seed, read as set_seeds
                random_module = sys.modules["tensorflow"].random
                restore.append((random_module, "set_seed", random_module.set_seed))
                random_module.set_seed = self.seed
            codes = []
            for cell_index, lineno in stmts:
                filename, source, _ = self.cells[cell_index]
                stmt = next(s for s in ast.parse(source, filename).body if s.lineno == lineno)
                codes.append(compile(ast.Module(body=[stmt], type_ignores=[]), filename, "exec"))
            try:
                with contextlib.redirect_stdout(out):
                    for code in codes:
                        exec(code, self.namespace)
            except BudgetReached:
                pass
            except NameError as error:
                answer["missing"] = getattr(error, "name", None) or str(error)
                answer["error"] = short_traceback()
            except BaseException as error:  # noqa: BLE001 -- the reader's loop: anything goes
                answer["error"] = short_traceback()
                answer["raised"] = raised_summary(error)
            if answer["error"] is not None and hasattr(record, "cut_last"):
                record.cut_last()
            answer["record"] = (record.to_dict() if hasattr(record, "to_dict") else None)
            answer["printed"] = out.getvalue()[:2000]
            answer["printed_chars"] = out.total
            collect = recorder.get("collect", ())
            answer["collected"] = {name: plain(self.namespace.get(name)) for name in collect}
            return answer
        finally:
            for owner, attribute, value in restore:
                setattr(owner, attribute, value)
            self.namespace.clear()
            self.namespace.update(saved)

    @staticmethod
    def call_methods(cls, method_calls, constructor_args):
        obj = cls(*constructor_args)
        outputs = []
        for name, args in method_calls:
            outputs.append(getattr(obj, name)(*args))
        return outputs

    @staticmethod
    def seed(seed):
        """Seed Python, NumPy and (once imported) TensorFlow, as ``set_seeds`` does."""
        if seed is None:
            return
        random.seed(seed)
        np.random.seed(seed)
        if "tensorflow" in sys.modules:
            tf = _tensorflow()
            tf.keras.utils.set_random_seed(seed)  # as homl_rl.seeding.set_seeds does
            tf.config.experimental.enable_op_determinism()

    def resolve(self, value):
        """Rebuild the objects that crossed the pipe as specs.

        TensorFlow is imported here, at the first spec that needs it, not at the top: a
        worker that checks NumPy code never loads it (and :meth:`seed` seeds it only then).
        """
        if isinstance(value, tuple) and value and isinstance(value[0], str) and value[0].startswith("__"):
            tag = value[0]
            if tag == "__model__":
                tf = _tensorflow()
                _, config_json, weights = value
                model = tf.keras.models.model_from_json(config_json)
                model.set_weights(weights)
                return model
            if tag == "__optimizer__":
                tf = _tensorflow()
                return tf.keras.optimizers.get({"class_name": value[1], "config": value[2]})
            if tag == "__module__":
                return importlib.import_module(value[1])
            if tag == "__tensor__":
                tf = _tensorflow()
                return tf.constant(value[1])
            if tag == "__loss__":
                tf = _tensorflow()
                return tf.keras.losses.get(value[1])
            if tag == "__env__":
                _, env_id, reset_seed = value
                env = gym.make(env_id)
                obs, info = env.reset(seed=reset_seed)
                return env
            if tag == "__shared_env__":  # one env for all the calls of a request
                key = value[1:]
                if key not in self.shared_envs:
                    self.shared_envs[key] = env = gym.make(value[1])
                    env.reset(seed=value[2])
                return self.shared_envs[key]
            if tag == "__global__":  # a value set once per request in the reader's globals
                return self.namespace[value[1]]
            if tag == "__deque__":
                return deque(copy.deepcopy(value[1]), maxlen=value[2])
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if isinstance(value, tuple):
            return tuple(self.resolve(item) for item in value)
        return copy.deepcopy(value)


def _fresh(value):
    """A definition's value for one run: functions and classes as they are, values copied."""
    if callable(value) or isinstance(value, type(sys)):
        return value
    try:
        return copy.deepcopy(value)
    except Exception:  # noqa: BLE001
        return value


def _defined_names(stmt):
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [stmt.name]
    targets = stmt.targets if isinstance(stmt, ast.Assign) else [getattr(stmt, "target", None)]
    return [target.id for target in targets if isinstance(target, ast.Name)]


def plain(value):
    """Something that pickles: tensors and models become NumPy arrays, the rest stays."""
    if hasattr(value, "numpy") and callable(value.numpy):
        return np.asarray(value.numpy())
    if hasattr(value, "get_weights") and callable(value.get_weights):
        return [np.asarray(w) for w in value.get_weights()]
    if isinstance(value, (list, tuple, deque)):
        items = [plain(item) for item in value]
        return items if isinstance(value, (list, deque)) else tuple(items)
    if isinstance(value, np.ndarray) and value.dtype == object:
        return np.array([plain(item) for item in value] + [None], dtype=object)[:-1]
    try:
        pickle.dumps(value)
        return value
    except Exception:  # noqa: BLE001
        return f"<unpicklable {type(value).__name__}>"


MEMORY_LIMIT = 6 * 2**30
"""bytes of address space the worker may reserve (TensorFlow on the CPU needs ~2 GiB): a
reader's runaway allocation raises MemoryError in the worker instead of swapping the machine"""


def main(read_fd, write_fd):
    """Cap the address space, silence stdout, then answer requests until the pipe closes."""
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    except (ImportError, ValueError, OSError):  # not on this platform, or a lower hard limit
        pass
    keras_2_environment(os.environ)  # whatever the reader's kernel had set
    # the reader's C-level prints and TensorFlow's logs must not reach our terminal
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    worker = ReaderWorker()
    while True:
        request = read_message(read_fd)
        if request is None:
            return
        op = request.pop("op")
        try:
            answer = {"ok": getattr(worker, op)(**request)}
        except SetupProblem as problem:
            answer = {"setup": str(problem)}
        except BaseException as error:  # noqa: BLE001 -- sys.exit in the reader's code included
            answer = {"error": short_traceback(), "raised": raised_summary(error)}
        try:
            write_message(write_fd, answer)
        except Exception:  # noqa: BLE001
            write_message(write_fd, {"error": "the result could not be sent back (not picklable)"})


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
