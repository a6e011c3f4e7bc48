"""Files outside the Delta tables that can hold a person's values: redact or remove them.

- ``_sql/snapshots/``: the SQL endpoint's hard links to table files (c360/sql_endpoint). A
  link keeps the bytes of a file vacuum deleted, so every snapshot folder goes; the endpoint
  builds new ones at its next refresh.
- everything else (``_reports/`` charts and previews, ``_models/``, ``_pending/``): text files
  (HTML, JSON, CSV, Markdown, text) have each of the person's values replaced by
  ``erasure.redacted_text``; another file holding one of the values is deleted.
"""

from __future__ import annotations

import shutil
from pathlib import Path

SQL_SNAPSHOTS = Path("_sql") / "snapshots"
TEXT_SUFFIXES = frozenset(
    {".html", ".htm", ".json", ".csv", ".md", ".txt", ".yaml", ".yml", ".log"}
)
SKIPPED_FOLDERS = ("_lock",)


def drop_sql_snapshots(root: Path) -> int:
    """Remove the SQL endpoint's snapshot folders; returns how many table folders went."""
    base = Path(root) / SQL_SNAPSHOTS
    if not base.is_dir():
        return 0
    folders = [p for p in base.glob("*/*") if p.is_dir()]
    shutil.rmtree(base)
    return len(folders)


def loose_files(root: Path, table_dirs: list[Path]) -> list[Path]:
    """Files under ``root`` outside the Delta tables, the SQL snapshots and the lock."""
    root = Path(root)
    tables = {p.resolve() for p in table_dirs}
    files = []
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        relative = path.relative_to(root)
        if relative.parts[0] in (*SKIPPED_FOLDERS, SQL_SNAPSHOTS.parts[0]):
            continue
        if any(parent.resolve() in tables for parent in path.parents):
            continue
        files.append(path)
    return sorted(files)


def redact_file(path: Path, needles: list[str], replacement: str) -> bool:
    """Redact (text) or delete (other) ``path`` when it holds a needle; True if it did."""
    data = path.read_bytes()
    encoded = [n.encode("utf-8") for n in needles if n]
    if not any(n in data for n in encoded):
        return False
    if path.suffix.lower() not in TEXT_SUFFIXES:
        path.unlink()
        return True
    for needle in encoded:  # longest first (the caller sorts), so no value is half-replaced
        data = data.replace(needle, replacement.encode("utf-8"))
    path.write_bytes(data)
    return True
