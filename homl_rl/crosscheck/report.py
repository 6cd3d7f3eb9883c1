"""The report of a cross-check: one :class:`CheckResult` a row, as a table or as JSON."""

import json
from dataclasses import asdict, dataclass, field

from homl_rl.crosscheck.diff import FLOAT_TOLERANCE

PASS, FAIL, SKIPPED, ERROR = "pass", "fail", "skipped", "error"
SYMBOLS = {PASS: "✓", FAIL: "✗", SKIPPED: "skipped", ERROR: "error"}


@dataclass
class CheckResult:
    """One row of the report: a check's name, its status and what differed."""
    check: str
    status: str
    max_abs_diff: float = None
    detail: str = ""
    hint: str = ""
    where: str = ""


@dataclass
class Report:
    """The cross-check of one file: its rows, and what of the file was not run."""
    path: str
    results: list = field(default_factory=list)
    skipped_code: list = field(default_factory=list)
    load_notes: list = field(default_factory=list)

    @property
    def exit_code(self):
        """0 when every attempted check passes, 1 when one fails or errs."""
        return 1 if any(r.status in (FAIL, ERROR) for r in self.results) else 0

    def to_json(self):
        """The report as JSON: every field, and ``exit_code``."""
        data = asdict(self)
        data["exit_code"] = self.exit_code
        return json.dumps(data, indent=2, default=str)

    @classmethod
    def from_json(cls, text):
        """The report that :meth:`to_json` wrote."""
        data = json.loads(text)
        return cls(data["path"], [CheckResult(**row) for row in data["results"]],
                   data["skipped_code"], data["load_notes"])

    def to_text(self):
        """The table, the hints and tracebacks below it, and a summary."""
        rows = [("check", "result", "max |diff|", "details")]
        for r in self.results:
            diff = "" if r.max_abs_diff is None else f"{r.max_abs_diff:.3g}"
            rows.append((r.check, SYMBOLS[r.status], diff, r.detail.splitlines()[0] if r.detail else ""))
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        lines = [f"crosscheck of {self.path}", ""]
        for row in rows:
            lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths))
                         + "  " + row[3])
        extra = [r for r in self.results if r.hint or (r.detail and "\n" in r.detail)]
        for r in extra:
            lines.append("")
            lines.append(f"{r.check}:")
            for line in r.detail.splitlines()[1:]:
                lines.append(f"    {line}")
            if r.hint:
                lines.append(f"    hint: {r.hint}")
        n_pass = sum(r.status == PASS for r in self.results)
        n_attempted = sum(r.status in (PASS, FAIL, ERROR) for r in self.results)
        lines += ["", f"integers and booleans compared exactly, floats to {FLOAT_TOLERANCE:g} "
                      "(absolute); same inputs, same seeds.",
                  f"{n_pass}/{n_attempted} attempted checks pass; "
                      f"{len(self.skipped_code)} top-level statement(s) not run"
                      " (loops, calls, plots; --format json lists them)."]
        if self.load_notes:
            lines.append(f"{len(self.load_notes)} simple assignment(s) could not be evaluated "
                         "(they use values made by skipped code; --format json lists them).")
        return "\n".join(lines)


def _show(value):
    """A value as the detail column shows it."""
    return f"{value:.8g}" if isinstance(value, float) else repr(value)


def failure(check, diff, hint=""):
    """The FAIL row for the first difference ``diff`` found."""
    detail = (f"{diff.problem} at {diff.where}: ours {_show(diff.ours)}, yours {_show(diff.theirs)}")
    return CheckResult(check, FAIL, diff.max_abs_diff, detail, hint, diff.where)
