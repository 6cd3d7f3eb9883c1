"""Our side of the worker: start it, send it requests, kill it after a crash or a timeout.

The worker (:mod:`homl_rl.crosscheck.worker`) runs in its own process, with a fresh
temporary directory as its working directory; a request that does not answer within
its timeout kills it, and the next request starts a new one with the reader's code
loaded again.
"""

import os
import select
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from homl_rl.crosscheck.worker import read_message, write_message


class WorkerError(Exception):
    """The reader's code raised, or the worker died or timed out.

    ``raised``: when the reader's code raised, the worker's summary of the exception (its
    type, message and frames: :func:`homl_rl.crosscheck.worker.raised_summary`), else ``None``.
    """

    def __init__(self, message, raised=None):
        super().__init__(message)
        self.raised = raised


class SetupError(WorkerError):
    """The worker's environment cannot run a check: not the reader's mistake (see the worker)."""


class Worker:
    """One worker process with the reader's code loaded; restarted after a crash or a timeout."""

    def __init__(self, loaded, load_timeout=120.0):
        self.loaded = loaded
        self.load_timeout = load_timeout
        self.process = None
        self.load_report = None
        self.tmpdir = tempfile.TemporaryDirectory(prefix="homl_rl_crosscheck_")

    def start(self):
        """Start the process in the temporary directory, and load the reader's code."""
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        package_root = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ, TMPDIR=self.tmpdir.name, MPLBACKEND="Agg",
                   TF_CPP_MIN_LOG_LEVEL="3",
                   PYTHONPATH=os.pathsep.join(filter(None, [package_root,
                                                            os.environ.get("PYTHONPATH")])))
        self.stderr = open(os.path.join(self.tmpdir.name, ".worker_stderr"), "w+b")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "homl_rl.crosscheck.worker", str(to_child_r), str(from_child_w)],
            cwd=self.tmpdir.name, env=env, pass_fds=(to_child_r, from_child_w),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.stderr)
        os.close(to_child_r)
        os.close(from_child_w)
        self.write_fd, self.read_fd = to_child_w, from_child_r
        self.load_report = self._request({"op": "load", "cells": self.loaded.cells,
                                          "setup_imports": self.loaded.setup_imports},
                                         self.load_timeout)

    def stop(self):
        """Kill the process (if it still runs) and close its pipes."""
        if self.process is not None:
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait()
            os.close(self.write_fd)
            os.close(self.read_fd)
            self.stderr.close()
            self.process = None

    def close(self):
        """Stop, and remove the temporary directory."""
        self.stop()
        self.tmpdir.cleanup()

    def request(self, timeout, **request):
        """Send one request (see :mod:`homl_rl.crosscheck.worker`); its answer, or a WorkerError."""
        if self.process is None:
            self.start()
        return self._request(request, timeout)

    def _request(self, request, timeout):
        try:
            write_message(self.write_fd, request)
        except OSError:
            return self._died()
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.stop()
                raise WorkerError(f"timed out after {timeout:g} s (the worker was killed)")
            ready, _, _ = select.select([self.read_fd], [], [], remaining)
            if ready:
                break
        answer = read_message(self.read_fd)
        if answer is None:
            return self._died()
        if "setup" in answer:
            raise SetupError(answer["setup"])
        if "error" in answer:
            raise WorkerError(answer["error"], answer.get("raised"))
        return answer["ok"]

    def _died(self):
        self.process.wait()
        code = self.process.returncode
        self.stderr.seek(0)
        tail = self.stderr.read().decode(errors="replace").strip().splitlines()[-3:]
        self.stop()
        raise WorkerError(f"the reader's code killed the worker (exit code {code})"
                          + ("".join(f"\n  {line}" for line in tail)))
