"""The project's small, named exception hierarchy.

The library raises these; only the CLI catches them and turns them into a one-line message and an exit code
(``ConfigError`` and ``InputDataError`` -> 2, ``InfeasibleError`` -> 1, ``SolverError`` -> 1).
"""

from __future__ import annotations


class FootprintError(Exception):
    """Base class of every error footprint raises on purpose."""

    exit_code: int = 2


class ConfigError(FootprintError):
    """The scenario file is malformed, has unknown keys, or contradicts itself."""

    exit_code = 2


class InputDataError(FootprintError):
    """An input file is missing, unreadable or holds data that cannot be used."""

    exit_code = 2


class InfeasibleError(FootprintError):
    """No plan can meet the constraints; the message says why, with numbers, and how to fix it."""

    exit_code = 1


class SolverError(FootprintError):
    """The solver is missing, crashed, or returned something unusable."""

    exit_code = 1


class VerificationError(FootprintError):
    """A plan failed the independent verifier and must not be written as good."""

    exit_code = 1
