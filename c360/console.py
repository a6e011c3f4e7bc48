"""What the console shows: the warning filters and logger levels of every c360 entry point.

Defined once; the ``c360`` CLI and the benchmarks call :func:`quiet_console`, the asset package
:func:`ignore_beta_warnings` (so ``dagster dev`` loads without them too).
"""

from __future__ import annotations

import logging
import warnings

# Dagster flags beta parameters (backfill_policy) on every load; users cannot act on it.
BETA_WARNING = r".*is currently in beta.*"


def ignore_beta_warnings() -> None:
    """Hide Dagster's "is currently in beta" warnings."""
    warnings.filterwarnings("ignore", message=BETA_WARNING)


def quiet_console() -> None:
    """Hide warnings users cannot act on, and the loggers that repeat what c360 reports."""
    ignore_beta_warnings()
    warnings.filterwarnings("ignore", module=r"dagster\..*")
    # pyspark logs every analysis error as a multi-kilobyte JSON line; the step error says it
    logging.getLogger("DataFrameQueryContextLogger").setLevel(logging.CRITICAL)
    # Splink warns about every untrained level; the identity stage's metadata reports the model
    logging.getLogger("splink").setLevel(logging.ERROR)
