"""The saved Splink model keeps no rare term frequency (a rare name's frequency is PII).

Splink 5's ``save_model_to_json`` writes no term-frequency table (checked: only the
``tf_adjustment_column`` / ``tf_adjustment_weight`` names and weights), and the model is what
``_models/splink/`` stores. Should a saved model ever carry a table (a ``tf_<column>`` mapping of
value -> count), this removes every entry counted fewer than ``conf/privacy.yaml``
``tf_minimum_count`` times; the privacy stage runs it on every erasure.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

MODEL_FOLDER = "splink"


def _prune(node: Any, minimum: int) -> tuple[Any, int]:
    """``node`` without rare entries in its ``tf_<column>`` tables; entries removed."""
    removed = 0
    if isinstance(node, list):
        pruned = []
        for item in node:
            item, n = _prune(item, minimum)
            pruned.append(item)
            removed += n
        return pruned, removed
    if not isinstance(node, dict):
        return node, 0
    result = {}
    for key, value in node.items():
        if key.startswith("tf_") and isinstance(value, dict):
            kept = {k: v for k, v in value.items() if isinstance(v, int | float) and v >= minimum}
            removed += len(value) - len(kept)
            result[key] = kept
        else:
            result[key], n = _prune(value, minimum)
            removed += n
    return result, removed


def prune_term_frequencies(models_dir: Path, minimum: int) -> int:
    """Rewrite saved models without term-frequency entries below ``minimum``; entries removed."""
    removed = 0
    for path in sorted((Path(models_dir) / MODEL_FOLDER).glob("*.json")):
        model = json.loads(path.read_text("utf-8"))
        pruned, n = _prune(model, minimum)
        if n:
            path.write_text(json.dumps(pruned, indent=2, ensure_ascii=False), "utf-8")
            removed += n
    return removed
