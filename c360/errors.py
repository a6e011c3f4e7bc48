"""The error families a run can end with, and which of them are worth a retry.

- :class:`PermanentError`: retrying cannot help (bad input, bad configuration, the lakehouse
  held by another run). The retry policy (``assets.policies``) fails the step at once.
  :class:`InputError` and :class:`ConfigurationError` are its two main kinds; both are also
  ``ValueError`` so callers catching that keep working.
- :class:`TransientError` (and ``OSError`` / a lost Spark connection, see
  ``assets.policies.TRANSIENT_ERRORS``): may pass on a second try, so it is retried with backoff.

Messages name what is wrong (file, table, key) and how to fix it; never a personal value.
"""

from __future__ import annotations


class C360Error(Exception):
    """Base of every error c360 raises on purpose."""


class PermanentError(C360Error):
    """Retrying cannot help: the same input or configuration fails the same way."""


class InputError(PermanentError, ValueError):
    """Input the run cannot use: a landing-zone file, a truth folder, a command-line argument."""


class ConfigurationError(PermanentError, ValueError):
    """Configuration that cannot be used (``conf/`` or an override); names the key."""


class TransientError(C360Error):
    """A failure that may pass on a retry (storage or network hiccup)."""


# OSErrors that say the path itself is wrong: a retry finds the same folder missing.
PERMANENT_OS_ERRORS: tuple[type[OSError], ...] = (
    FileNotFoundError,
    NotADirectoryError,
    IsADirectoryError,
    PermissionError,
)


def is_permanent(exc: BaseException) -> bool:
    """True when a retry would fail the same way (see the module docstring)."""
    return isinstance(exc, (PermanentError, *PERMANENT_OS_ERRORS))
