"""Retries: transient failures are retried with exponential backoff, the others fail at once.

A lost connection to the Spark JVM or an I/O error on the lakehouse's storage may pass on a
second try; a contract violation, a bad configuration or a failed analysis will not, and retrying
would only repeat minutes of work. Every asset carries :data:`TRANSIENT_RETRY` and wraps its body
in :func:`retry_transient_only`, which turns non-transient errors into a ``dg.Failure`` that
Dagster does not retry (the message keeps the error's type and text).
"""

import functools
import inspect
from collections.abc import Callable
from typing import Any

import dagster as dg
from py4j.protocol import Py4JNetworkError

# Up to 2 retries, 15 s then 30 s (+/- jitter) apart.
TRANSIENT_RETRY = dg.RetryPolicy(
    max_retries=2, delay=15, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)
# OSError covers storage and network I/O (ConnectionError, TimeoutError are subclasses).
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (OSError, Py4JNetworkError)


def _final(exc: Exception) -> dg.Failure:
    return dg.Failure(f"{type(exc).__name__}: {exc}", allow_retries=False)


def retry_transient_only(compute: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap an asset's compute function so only :data:`TRANSIENT_ERRORS` are retried."""
    if inspect.isgeneratorfunction(compute):

        @functools.wraps(compute)
        def generator(*args: Any, **kwargs: Any) -> Any:
            try:
                yield from compute(*args, **kwargs)
            except (dg.Failure, *TRANSIENT_ERRORS):
                raise
            except Exception as exc:
                raise _final(exc) from exc

        return generator

    @functools.wraps(compute)
    def function(*args: Any, **kwargs: Any) -> Any:
        try:
            return compute(*args, **kwargs)
        except (dg.Failure, *TRANSIENT_ERRORS):
            raise
        except Exception as exc:
            raise _final(exc) from exc

    return function
