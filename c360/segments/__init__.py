"""Segments (issue 18): named, consent-aware customer lists over the gold tables.

- :mod:`c360.segments.model`: ``conf/segments.yaml`` parsing and validation;
- :mod:`c360.segments.engine`: the filter compiler (one DuckDB query) and its evaluation;
- :mod:`c360.segments.consent`: where each channel's consent comes from;
- :mod:`c360.segments.membership`: ``gold/segment_members`` snapshots;
- :mod:`c360.segments.export`: previews (PII masked), exports and ``gold/export_log``.

Reads only named tables (golden records, feature snapshot, feature catalog); imports the core.
"""
