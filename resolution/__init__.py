"""Identity resolution: Splink matching, guarded clustering, stable customer IDs, golden records.

Entry points (see docs/identity_resolution.md):

- :func:`resolution.run.resolve_identities`: one run (match -> stable IDs -> evaluate -> charts);
- :func:`resolution.pipeline.match_records`: records -> clusters (train or reuse the model);
- :func:`resolution.stable_ids.assign_customer_ids`: previous map + clusters -> new map + history;
- :func:`resolution.golden.build_golden_records`: records + map -> golden records;
- :func:`resolution.evaluation.evaluate_clusters`: pairwise and cluster figures against truth.
"""
