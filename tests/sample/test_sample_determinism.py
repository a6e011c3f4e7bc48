"""Same seed, same bytes; another seed, other data."""

from __future__ import annotations

from pathlib import Path


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_same_seed_gives_identical_bytes(make_landing, tmp_path):
    first = make_landing(tmp_path / "a", people=400, days=2, history_days=60, seed=5)
    second = make_landing(tmp_path / "b", people=400, days=2, history_days=60, seed=5)
    tree_a, tree_b = _tree(tmp_path / "a"), _tree(tmp_path / "b")
    # Per day: crm, erp, transactions, consent, engagement, service one file + marker each;
    # loyalty two files + marker. Then the six truth files.
    assert len(tree_a) == (2 + 2 + 2 + 3 + 2 + 2 + 2) * 2 + 6
    assert tree_a == tree_b
    assert first.summary.rows == second.summary.rows


def test_same_seed_gives_identical_parquet(make_landing, tmp_path):
    kwargs = {
        "people": 200,
        "days": 1,
        "history_days": 30,
        "seed": 5,
        "transactions_format": "parquet",
    }
    make_landing(tmp_path / "a", **kwargs)
    make_landing(tmp_path / "b", **kwargs)
    assert _tree(tmp_path / "a") == _tree(tmp_path / "b")


def test_another_seed_changes_every_extract(make_landing, tmp_path):
    make_landing(tmp_path / "a", people=400, days=2, history_days=60, seed=5)
    make_landing(tmp_path / "b", people=400, days=2, history_days=60, seed=6)
    tree_a, tree_b = _tree(tmp_path / "a"), _tree(tmp_path / "b")
    assert tree_a.keys() == tree_b.keys()
    differing = {name for name in tree_a if tree_a[name] != tree_b[name]}
    non_empty = {name for name in tree_a if tree_a[name]}
    # Every non-empty file (extracts, truth, the manifest holding the seed) differs.
    assert differing == non_empty
