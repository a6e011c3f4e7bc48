"""Dagster asset definitions, one module per layer; thin wrappers around the domain code."""

from c360.console import ignore_beta_warnings

# `backfill_policy` (single-run backfills of landing days) is flagged beta on every load; the
# warning is noise for users, who cannot act on it.
ignore_beta_warnings()
