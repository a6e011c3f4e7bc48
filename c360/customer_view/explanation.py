"""Why a customer's records were linked, and why similar records were kept apart.

Reads the customer's rows of ``gold/identity_links`` (one ``customer_bucket`` partition, filtered
by ``customer_id``): per accepted pair Splink's match weight and a waterfall (the prior, then
each comparison's level and log2 Bayes factor, adding up to the match weight); per refused
pair the reason (``below_threshold`` or the guard rule that refused it).
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from c360.customer_view.store import ViewStore
from c360.tables import GOLD_IDENTITY_LINKS, identity_link_bucket

REASONS = {
    "below_threshold": "match probability below the clustering threshold",
    "guard.personal_evidence": (
        "guard: no personal evidence (given name, national ID, name tokens or email with birth "
        "date); shared contact points alone never link"
    ),
    "guard.contradictions": "guard: the pair contradicts itself (birth date or national ID)",
    "guard.split_conflicting_clusters": (
        "guard: its cluster held conflicting identities and was split at the stricter threshold"
    ),
}


def _waterfall(row: dict[str, Any]) -> list[dict[str, Any]]:
    """Prior first, then each comparison (their weights add up to the match weight)."""
    comparisons = [  # a term-frequency adjustment that did not apply weighs 0: left out
        c for c in row["comparisons"] or []
        if not (c["name"].startswith("tf:") and c["log2_bayes_factor"] == 0)
    ]  # fmt: skip
    total = sum(c["log2_bayes_factor"] for c in comparisons)
    prior = {"name": "prior", "level": None, "gamma": None,
             "log2_bayes_factor": round(row["match_weight"] - total, 4)}  # fmt: skip
    steps = [{**c, "log2_bayes_factor": round(c["log2_bayes_factor"], 4)} for c in comparisons]
    return [prior, *steps]


def _pair(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "record_key_l": row["record_key_l"],
        "record_key_r": row["record_key_r"],
        "customer_id_l": row["customer_id_l"],
        "customer_id_r": row["customer_id_r"],
        "match_weight": round(row["match_weight"], 4),
        "match_probability": row["match_probability"],
        "reason": row["reason"],
        "reason_text": REASONS.get(row["reason"], row["reason"]),
        "waterfall": _waterfall(row),
    }


def explain_customer(store: ViewStore, customer_id: str) -> dict[str, Any]:
    """The accepted and the refused pairs of ``customer_id`` (strongest first)."""
    if not store.exists(GOLD_IDENTITY_LINKS):
        return {"customer_id": customer_id, "available": False, "accepted": [], "refused": []}
    where = (
        pc.field("customer_bucket") == pa.scalar(identity_link_bucket(customer_id), pa.int32())
    ) & (pc.field("customer_id") == customer_id)
    rows = store.rows(GOLD_IDENTITY_LINKS, where).to_pylist()
    rows.sort(key=lambda r: (-r["match_weight"], r["record_key_l"], r["record_key_r"]))
    return {
        "customer_id": customer_id,
        "available": True,
        "run_id": rows[0]["run_id"] if rows else None,
        "accepted": [_pair(r) for r in rows if r["link"] == "accepted"],
        "refused": [_pair(r) for r in rows if r["link"] == "refused"],
    }
