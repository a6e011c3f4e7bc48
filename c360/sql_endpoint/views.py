"""Views for BI tools over each Delta table's CURRENT files (no delta-spark jar needed).

A table directory still holds files an overwrite removed from its log (until vacuum), so a view
over the bare directory would read dead rows. Instead, each table version gets a snapshot
folder, ``<root>/_sql/snapshots/<layer>/<table>/v<version>/``, of hard links to exactly the live
files (partition folders kept), and the view reads that folder. Hard links cost no space, stay
readable after vacuum deletes the originals, and a new version gets a new folder, so a view
never points at removed files. Snapshots older than the previous version are pruned.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from deltalake import DeltaTable

SNAPSHOTS = Path("_sql") / "snapshots"


@dataclass(frozen=True)
class TableSnapshot:
    layer: str
    name: str
    version: int
    folder: Path

    @property
    def qualified_name(self) -> str:
        return f"{self.layer}.{self.name}"


def delta_tables(root: Path, layers: list[str]) -> list[tuple[str, str, Path]]:
    """(layer, table, path) of every Delta table under the given layers, sorted."""
    found = []
    for layer in layers:
        for path in sorted((root / layer).glob("*")):
            if (path / "_delta_log").is_dir() and DeltaTable.is_deltatable(str(path)):
                found.append((layer, path.name, path))
    return found


def _link(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:  # another file system: copy (costs space, same guarantee)
        shutil.copy2(source, target)


def snapshot_table(root: Path, layer: str, name: str) -> TableSnapshot:
    """The snapshot folder of the table's current version (built once per version)."""
    path = root / layer / name
    table = DeltaTable(str(path))
    version = table.version()
    base = root / SNAPSHOTS / layer / name
    folder = base / f"v{version}"
    if not folder.is_dir():
        staging = base / f".v{version}.{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        files = table.file_uris()
        for uri in files:
            source = Path(uri.removeprefix("file://"))
            _link(source, staging / source.relative_to(path))
        if not files:  # an empty table still has a schema: one empty file carries it
            schema = pa.schema(table.schema().to_arrow())
            pq.write_table(schema.empty_table(), staging / "empty.parquet")
        staging.rename(folder)
    # Keep this snapshot and the one before it (the view queries in flight may still read it).
    # By folder, not by version - 1: a vacuum commits versions too, so versions jump.
    snapshots = sorted((p for p in base.glob("v*") if p.is_dir()), key=lambda p: int(p.name[1:]))
    for old in snapshots[:-2]:
        shutil.rmtree(old, ignore_errors=True)
    return TableSnapshot(layer, name, version, folder)


def view_sql(snapshot: TableSnapshot) -> str:
    """``CREATE OR REPLACE VIEW layer.table`` over the snapshot folder (names are ours)."""
    location = str(snapshot.folder).replace("`", "")
    return (
        f"CREATE OR REPLACE VIEW `{snapshot.layer}`.`{snapshot.name}` AS "
        f"SELECT * FROM parquet.`{location}`"
    )
