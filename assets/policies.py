"""Retries: transient failures are retried with exponential backoff, the others fail at once.

A lost connection to the Spark JVM or an I/O error on the lakehouse's storage may pass on a
second try; a contract violation, a bad configuration, a missing input folder, a lakehouse held
by another run or a failed analysis will not, and retrying would only repeat minutes of work.
Every asset carries :data:`TRANSIENT_RETRY` and wraps its body in :func:`retry_transient_only`,
which turns every error but a transient one into a ``dg.Failure`` that Dagster does not retry
(the message keeps the error's type and text). Permanent errors are those of
:func:`c360.errors.is_permanent` (:class:`c360.errors.PermanentError` and the ``OSError`` kinds
that name a wrong path: ``FileNotFoundError``, ``PermissionError``, ...), even though some of
them are ``OSError``.
"""

import functools
import inspect
from collections.abc import Callable
from typing import Any

import dagster as dg
from py4j.protocol import Py4JNetworkError

from c360.errors import TransientError, is_permanent

# Up to 2 retries, 15 s then 30 s (+/- jitter) apart.
OWNERS = ["team:data-engineering"]  # every asset's owner in the Dagster UI

TRANSIENT_RETRY = dg.RetryPolicy(
    max_retries=2, delay=15, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)
# OSError covers storage and network I/O (ConnectionError, TimeoutError are subclasses);
# its permanent kinds (a missing file or folder, no permission) are excluded by is_permanent.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (OSError, Py4JNetworkError, TransientError)


def is_transient(exc: BaseException) -> bool:
    """True when Dagster should retry the step that raised ``exc``."""
    return isinstance(exc, TRANSIENT_ERRORS) and not is_permanent(exc)


def _final(exc: Exception) -> dg.Failure:
    return dg.Failure(f"{type(exc).__name__}: {exc}", allow_retries=False)


def retry_transient_only(compute: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap an asset's compute function so only transient errors (:func:`is_transient`) are
    retried."""
    if inspect.isgeneratorfunction(compute):

        @functools.wraps(compute)
        def generator(*args: Any, **kwargs: Any) -> Any:
            try:
                yield from compute(*args, **kwargs)
            except dg.Failure:
                raise
            except Exception as exc:
                if is_transient(exc):
                    raise
                raise _final(exc) from exc

        return generator

    @functools.wraps(compute)
    def function(*args: Any, **kwargs: Any) -> Any:
        try:
            return compute(*args, **kwargs)
        except dg.Failure:
            raise
        except Exception as exc:
            if is_transient(exc):
                raise
            raise _final(exc) from exc

    return function
