"""The single customer view (issue 19): find, profile, timeline and why records were linked.

A stage: it reads gold and silver tables through :mod:`c360.tables` names (delta-rs / pyarrow
with filters, never Spark) and never writes. ``pipelines/customer_cli.py`` (``c360 customer``)
and :mod:`c360.customer_view.web` (``c360 serve``) present it.
"""
