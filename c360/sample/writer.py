"""Writing extracts into the landing zone and the truth beside it (byte-for-byte reproducible)."""

from __future__ import annotations

import fnmatch
import json
import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from c360.contract import SUCCESS_MARKER, SourceEntity, day_folder


def extract_file_name(entity: SourceEntity, day: date, file_format: str) -> str:
    """File name for one extract, made from the contract's glob: ``contacts_20250101.csv``."""
    for glob in entity.file_globs:
        if glob.endswith(f".{file_format}"):
            name = glob.replace("*", f"_{day:%Y%m%d}")
            assert fnmatch.fnmatch(name, glob)
            return name
    raise ValueError(f"{entity.name} has no file pattern for format {file_format!r}")


def write_extract(
    raw_root: Path, entity: SourceEntity, day: date, frame: pd.DataFrame, file_format: str
) -> Path:
    """Write one entity's extract for one day; returns the file path."""
    folder = day_folder(raw_root, entity.source, day)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / extract_file_name(entity, day, file_format)
    if file_format == "csv":
        write_csv(frame, path)
    elif file_format == "jsonl":
        write_jsonl(frame, path)
    elif file_format == "parquet":
        table = pa.Table.from_pandas(frame, preserve_index=False)
        pq.write_table(table.replace_schema_metadata(None), path, compression="zstd")
    else:
        raise ValueError(f"unknown file format {file_format!r}")
    return path


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """UTF-8 CSV without a BOM or index, Unix line endings."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")


def write_jsonl(frame: pd.DataFrame, path: Path) -> None:
    """One JSON object per line, UTF-8 (not escaped); blank fields travel as JSON null."""
    columns = list(frame.columns)
    lines = [
        json.dumps({c: (v if v != "" else None) for c, v in zip(columns, row, strict=True)},
                   ensure_ascii=False)
        for row in frame.itertuples(index=False, name=None)
    ]  # fmt: skip
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def mark_complete(raw_root: Path, source: str, day: date) -> Path:
    """Write the empty ``_SUCCESS`` marker, last, as the extract job would."""
    marker = day_folder(raw_root, source, day) / SUCCESS_MARKER
    marker.write_bytes(b"")
    return marker


def write_json(data: object, path: Path) -> None:
    """Pretty, key-sorted JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n", "utf-8")


def clear_targets(folders: list[Path], files: list[Path], overwrite: bool) -> None:
    """Refuse to mix runs: existing day folders or truth files need ``overwrite``, then go."""
    existing = [p for p in [*folders, *files] if p.exists()]
    if existing and not overwrite:
        shown = ", ".join(str(p) for p in existing[:3])
        raise FileExistsError(
            f"{len(existing)} target(s) already exist ({shown}, ...); choose empty --out / --truth "
            "directories or pass --overwrite to replace them"
        )
    for path in existing:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
