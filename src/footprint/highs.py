"""Quiet highspy models: the one place that constructs ``highspy.Highs`` for the solvers above it."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def _stdout_to_null() -> Iterator[None]:
    """Point file descriptor 1 at the null device for the block (C++ writes bypass ``sys.stdout``)."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def new_highs() -> object:
    """A ``highspy.Highs`` that prints nothing.

    HiGHS 1.16 writes its banner to standard output (file descriptor 1, from C++) while the object is being
    constructed, before any option can be set; that line would corrupt ``--json`` output and the quiet mode. So
    the constructor runs with file descriptor 1 on the null device, then ``output_flag`` is switched off.
    """
    import highspy

    with _stdout_to_null():
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    return h
