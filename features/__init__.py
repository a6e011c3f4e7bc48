"""Customer features: ``conf/features.yaml`` compiled into ``gold/customer_features`` snapshots.

Each module has one job. Imports point one way, down :data:`LAYERS` (a module imports only
modules of earlier layers; modules of one layer do not import each other), so the package's
import graph has no cycle (``tests/features/test_import_graph.py`` checks both with grimp):

1. ``spec`` (package: ``model`` < ``validate`` < ``parse``; ``expand``): the spec's vocabulary,
   validation and expansion into column definitions; ``sql``: Spark SQL text helpers;
   ``transport``: the Arrow IPC stream between Spark workers and the driver; ``writer``: the
   snapshot's Parquet files and their one Delta commit.
2. ``events``: the point-in-time event frames of the spec's sources (the no-leakage rule);
   ``engine``: numpy aggregation of one partition of events; ``internal``: the aggregates the
   customer-level families read; ``catalog``: ``gold/feature_catalog`` rows; ``checks``: the
   snapshot's degenerate-column check; ``customer_inputs``: the card summary and golden-record
   profile (Spark); ``buckets``: customer buckets (ranges of ``customer_id``) and their size.
3. ``plan``: the engine's passes and where every result goes (pure Python); ``customer``: the
   customer-level families (numpy).
4. ``prepare``: the engine's input columns and its Spark stage; ``assemble``: long values ->
   the wide snapshot (Arrow).
5. ``compiler``: the build (``build_customer_features``); ``evidence``: which features the
   population's events cannot make vary.
6. ``snapshot``: build, write (one Delta commit) and profile one snapshot, bucket by bucket.

Only the core (``c360``) is imported from outside the package; see docs/features.md.
"""

# Bottom first; names are modules (or subpackages) of ``features``.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("spec", "sql", "transport", "writer"),
    ("events", "engine", "internal", "catalog", "checks", "customer_inputs", "buckets"),
    ("plan", "customer"),
    ("prepare", "assemble"),
    ("compiler", "evidence"),
    ("snapshot",),
)
