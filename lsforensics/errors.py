"""Exceptions that carry the exit code the CLI maps them to (SPEC.md: 1, 2, 3; 4 for an unanchored verify)."""

from __future__ import annotations


class LsfError(Exception):
    """Base class. ``exit_code`` is what ``lsf`` exits with; the message is one line."""

    exit_code = 3
    label = "error"  # the word after "lsf:" on stderr


class InputError(LsfError):
    """Bad usage or input: missing file, unreadable media, malformed rules (exit 2)."""

    exit_code = 2


class VerificationError(LsfError):
    """A case failed verification or a ``--fail-on`` threshold was hit (exit 1)."""

    exit_code = 1


class Unanchored(LsfError):
    """``lsf verify``: nothing is wrong with the case, but no signature or timestamp of it was checked
    against a key or TSA root the verifier supplied (exit 4, an extension of SPEC's 0/1)."""

    exit_code = 4
    label = "unanchored"


class StageError(LsfError):
    """A stage failed for a reason that is not the user's input (exit 3)."""

    exit_code = 3
