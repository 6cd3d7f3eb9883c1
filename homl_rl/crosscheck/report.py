"""The report of a cross-check: one :class:`CheckResult` a row, as a table or as JSON."""

import html
import json
from dataclasses import asdict, dataclass, field

from homl_rl.crosscheck.diff import FLOAT_TOLERANCE

PASS, FAIL, SKIPPED, ERROR = "pass", "fail", "skipped", "error"
SETUP_NOTES = "set-up notes (your environment, not your code)"
NAMESPACE_NOTES = "your training loops' results in the kernel's namespace (checked without a re-run where possible)"
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
    diagnostics: list = field(default_factory=list)
    """properties of the difference itself (:mod:`.diagnostics`), for a failure no
    catalogued hint explains: "yours is ours in reverse order", ..."""


@dataclass
class Report:
    """The cross-check of one file or notebook: its rows, and what of the code was not run.

    ``setup_problems``: what failed in the reader's environment or set-up (not a mistake of
    a checked function), each said once, above the table; ``setup_notes``: what the
    environment changed without making the reader's code wrong (an overridden
    ``TF_USE_LEGACY_KERAS``; a line of the book that this stack's libraries reject, with
    its fix), said there too, and not counted in the exit code. ``namespace_notes``: in a
    notebook, one line per training loop: checked from the results it left in the kernel's
    namespace, re-run, or why not (:mod:`.namespace`), said above the table. In Jupyter the report shows as
    an HTML table (:meth:`_repr_html_`); elsewhere ``repr`` and ``str`` give :meth:`to_text`.
    """
    path: str
    results: list = field(default_factory=list)
    skipped_code: list = field(default_factory=list)
    load_notes: list = field(default_factory=list)
    setup_problems: list = field(default_factory=list)
    setup_notes: list = field(default_factory=list)
    namespace_notes: list = field(default_factory=list)

    @property
    def exit_code(self):
        """0 when every attempted check passes and the set-up worked; 1 otherwise."""
        failed = any(r.status in (FAIL, ERROR) for r in self.results)
        return 1 if failed or self.setup_problems else 0

    def __str__(self):
        return self.to_text()

    __repr__ = __str__

    def _repr_html_(self):
        """The report as Jupyter shows it: set-up problems, then a table (check, status, detail, hint)."""
        esc = html.escape
        parts = [f"<p><b>crosscheck of {esc(self.path)}</b></p>"]
        if self.setup_problems:
            parts.append("<p><b>set-up problems</b> (your environment, not your code):</p><ul>"
                         + "".join(f"<li>{esc(p)}</li>" for p in self.setup_problems) + "</ul>")
        if self.setup_notes:
            parts.append(f"<p><b>{SETUP_NOTES}</b>:</p><ul>"
                         + "".join(f"<li>{esc(n)}</li>" for n in self.setup_notes) + "</ul>")
        if self.namespace_notes:
            parts.append(f"<p><b>{NAMESPACE_NOTES}</b>:</p><ul>"
                         + "".join(f"<li>{esc(n)}</li>" for n in self.namespace_notes) + "</ul>")
        parts.append("<table><thead><tr><th>check</th><th>status</th><th>detail</th><th>hint</th>"
                     "</tr></thead><tbody>")
        for r in self.results:
            detail = esc(r.detail).replace("\n", "<br>")
            parts.append(f"<tr><td>{esc(r.check)}</td><td>{esc(SYMBOLS[r.status])} {esc(r.status)}</td>"
                         f"<td style=\"text-align:left\">{detail}</td>"
                         f"<td style=\"text-align:left\">{esc(r.hint)}"
                         + "".join(f"<br>diagnostic: {esc(d)}" for d in r.diagnostics)
                         + "</td></tr>")
        parts.append("</tbody></table>")
        parts.append(f"<p>{esc(self._summary()[-1])}</p>")
        return "\n".join(parts)

    def to_json(self):
        """The report as JSON: every field, and ``exit_code``."""
        data = asdict(self)
        data = {"path": data.pop("path"), "setup_problems": data.pop("setup_problems"),
                "setup_notes": data.pop("setup_notes"), **data,
                "exit_code": self.exit_code}  # the set-up problems first, as in the table
        return json.dumps(data, indent=2, default=str)

    @classmethod
    def from_json(cls, text):
        """The report that :meth:`to_json` wrote."""
        data = json.loads(text)
        return cls(data["path"], [CheckResult(**row) for row in data["results"]],
                   data["skipped_code"], data["load_notes"], data.get("setup_problems", []),
                   data.get("setup_notes", []), data.get("namespace_notes", []))

    def to_text(self):
        """The table, the hints and tracebacks below it, and a summary."""
        rows = [("check", "result", "max |diff|", "details")]
        for r in self.results:
            diff = "" if r.max_abs_diff is None else f"{r.max_abs_diff:.3g}"
            rows.append((r.check, SYMBOLS[r.status], diff, r.detail.splitlines()[0] if r.detail else ""))
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        lines = [f"crosscheck of {self.path}", ""]
        if self.setup_problems:
            lines.append("set-up problems (your environment, not your code):")
            lines += [f"  ! {problem}" for problem in self.setup_problems]
            lines.append("")
        if self.setup_notes:
            lines.append(f"{SETUP_NOTES}:")
            lines += [f"  - {note}" for note in self.setup_notes]
            lines.append("")
        if self.namespace_notes:
            lines.append(f"{NAMESPACE_NOTES}:")
            lines += [f"  - {note}" for note in self.namespace_notes]
            lines.append("")
        for row in rows:
            lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths))
                         + "  " + row[3])
        extra = [r for r in self.results
                 if r.hint or r.diagnostics or (r.detail and "\n" in r.detail)]
        for r in extra:
            lines.append("")
            lines.append(f"{r.check}:")
            for line in r.detail.splitlines()[1:]:
                lines.append(f"    {line}")
            if r.hint:
                lines.append(f"    hint: {r.hint}")
            lines += [f"    diagnostic: {d}" for d in r.diagnostics]
        lines += [""] + self._summary()
        if self.load_notes:
            lines.append(f"{len(self.load_notes)} simple assignment(s) could not be evaluated "
                         "(they use values made by skipped code; --format json lists them).")
        return "\n".join(lines)

    def _summary(self):
        n_pass = sum(r.status == PASS for r in self.results)
        n_attempted = sum(r.status in (PASS, FAIL, ERROR) for r in self.results)
        return [f"integers and booleans compared exactly, floats to {FLOAT_TOLERANCE:g} "
                "(absolute); same inputs, same seeds.",
                f"{n_pass}/{n_attempted} attempted checks pass; "
                f"{len(self.skipped_code)} top-level statement(s) not run"
                " (loops, calls, plots; --format json lists them)."]


def _show(value):
    """A value as the detail column shows it."""
    return f"{value:.8g}" if isinstance(value, float) else repr(value)


def failure(check, diff, hint="", diagnostics=()):
    """The FAIL row for the first difference ``diff`` found."""
    detail = (f"{diff.problem} at {diff.where}: ours {_show(diff.ours)}, yours {_show(diff.theirs)}")
    return CheckResult(check, FAIL, diff.max_abs_diff, detail, hint, diff.where, list(diagnostics))
