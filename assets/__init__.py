"""Dagster asset definitions, one module per layer; thin wrappers around the domain code."""

import warnings

# `backfill_policy` (single-run backfills of landing days) is flagged beta on every load; the
# warning is noise for users, who cannot act on it.
warnings.filterwarnings("ignore", message=r"Parameter `backfill_policy` .* is currently in beta")
