"""Findings: every problem or notable fact met while loading and validating, collected then reported once.

A :class:`Finding` names the file, what is wrong, the offending codes (a few shown, all counted) and the fix.
Severity ``error`` stops a run (exit code 2); ``warning`` is printed and recorded in the run's output; ``info``
records a policy applied (rows dropped by design, vintage detected).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]

#: How many offending codes a message shows before "and N more".
SHOW_CODES = 8


@dataclass(frozen=True)
class Finding:
    """One problem or fact, with the evidence.

    Attributes
    ----------
    severity
        ``error`` (the scenario cannot run), ``warning`` or ``info``.
    code
        Stable machine-readable identifier, e.g. ``registrations.unknown_lsoa``.
    message
        One line in plain words, with the fix.
    file
        The input file concerned (or ``""``).
    items
        Offending codes, sorted (all of them; messages show the first few).
    count
        How many rows or codes are affected (defaults to ``len(items)``).
    """

    severity: Severity
    code: str
    message: str
    file: str = ""
    items: tuple[str, ...] = field(default_factory=tuple)
    count: int | None = None

    @property
    def n(self) -> int:
        return self.count if self.count is not None else len(self.items)

    def line(self) -> str:
        """The finding as one line: ``file: message [codes...]``."""
        where = f"{self.file}: " if self.file else ""
        shown = ""
        if self.items:
            head = ", ".join(self.items[:SHOW_CODES])
            more = f" and {len(self.items) - SHOW_CODES:,} more" if len(self.items) > SHOW_CODES else ""
            shown = f" [{head}{more}]"
        return f"{where}{self.message}{shown}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "file": self.file,
            "count": self.n,
            "items": list(self.items),
        }


def codes(values: Iterable[object]) -> tuple[str, ...]:
    """Distinct codes as a sorted tuple of strings."""
    return tuple(sorted({str(value) for value in values}))
