"""Delete a person's rows from one Delta table, by how the table identifies a person."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from pathlib import Path

import pyarrow as pa

from c360.errors import PermanentError
from c360.lakehouse import Lakehouse, _sql_literal
from c360.privacy.resolve import Person
from c360.privacy_rules import HASHED_FIELDS, standardised_identifier
from c360.tables import Table, all_tables

# Folders under the lakehouse root that hold no tables of their own: the SQL endpoint's
# hard-link snapshots (c360/sql_endpoint), handled as files by c360.privacy.files.
NOT_TABLE_FOLDERS = ("_sql",)


class UnknownTableError(PermanentError):
    """A Delta table on disk that the privacy stage does not know how to erase from."""


def tables_on_disk(root: Path) -> list[Table]:
    """Every Delta table under ``root`` (a folder with a ``_delta_log``), as its :class:`Table`.

    Raises:
        UnknownTableError: a table that c360.tables does not define, or one whose ``person``
            is undeclared: an erasure could miss it, so nothing is erased.
    """
    known = all_tables()
    found, unknown = [], []
    for log_dir in sorted(Path(root).rglob("_delta_log")):
        relative = log_dir.parent.relative_to(root)
        if relative.parts and relative.parts[0] in NOT_TABLE_FOLDERS:
            continue
        table = known.get(".".join(relative.parts))
        if table is None or table.person is None:
            unknown.append(relative.as_posix())
        else:
            found.append(table)
    if unknown:
        raise UnknownTableError(
            f"Delta tables under {root} with no erasure rule: {unknown}. Define each in "
            "c360/tables.py with person=PersonKey(...) (how its rows name a person: "
            "customer_id, record_key, source_record, raw or none) before erasing; nothing "
            "was erased"
        )
    return found


def _in(column: str, values: set[str]) -> str:
    return f'"{column}" IN ({", ".join(_sql_literal(v) for v in sorted(values))})'


def _source_record_predicate(lake: Lakehouse, table: Table, person: Person) -> str | None:
    """Rows whose (system, record ID) is one of the person's, matched as landed (trimmed)."""
    key = table.person
    by_system: dict[str, set[str]] = defaultdict(set)
    for record_key in person.record_keys:
        system, _, record_id = record_key.partition(":")
        by_system[system].add(record_id)
    data = lake.arrow_dataset(table).to_table(columns=list(key.columns))
    clauses = set()
    if key.source_system is not None:
        wanted = by_system.get(key.source_system, set())
        landed = {v for v in data.column(0).to_pylist() if v is not None and v.strip() in wanted}
        return _in(key.columns[0], landed) if landed else None
    system_col, id_col = key.columns
    pairs = zip(data.column(0).to_pylist(), data.column(1).to_pylist(), strict=True)
    for system, record_id in pairs:
        if system is None or record_id is None:
            continue
        if record_id.strip() in by_system.get(system.strip().lower(), set()):
            clauses.add(f'("{system_col}" = {_sql_literal(system)} AND {_in(id_col, {record_id})})')
    return " OR ".join(sorted(clauses)) or None


def _fields_of(raw: str) -> list[str]:
    """The values of a quarantined row's raw text: a JSON object's values, or CSV fields."""
    try:
        parsed = json.loads(raw)
        if isinstance(parsed, dict):
            return [str(v) for v in parsed.values() if v is not None]
    except ValueError:
        pass
    return [f for row in csv.reader(io.StringIO(raw)) for f in row]


def raw_names_person(raw: str | None, person: Person) -> bool:
    """True when quarantined raw text holds one of the person's record IDs or identifiers."""
    if not raw:
        return False
    ids = person.record_ids()
    for value in _fields_of(raw):
        text = value.strip()
        if text in ids or text in person.customer_ids:
            return True
        for kind in HASHED_FIELDS:
            if (
                person.identifiers.get(kind)
                and standardised_identifier(kind, text) in person.identifiers[kind]
            ):
                return True
    long_values = [v for vs in person.identifiers.values() for v in vs if len(v) >= 8]
    return any(v in raw for v in long_values)


def _raw_predicate(lake: Lakehouse, table: Table, person: Person) -> str | None:
    data = lake.arrow_dataset(table).to_table(
        columns=["layer", "table", "_source_file", "_row_number", "raw"]
    )
    clauses = []
    for row in data.to_pylist():
        if not raw_names_person(row["raw"], person):
            continue
        where = [f'"{c}" = {_sql_literal(row[c])}' for c in ("layer", "table", "_source_file")]
        if row["_row_number"] is None:
            where.append(f'"raw" = {_sql_literal(row["raw"])}')
        else:
            where.append(f'"_row_number" = {row["_row_number"]}')
        clauses.append("(" + " AND ".join(where) + ")")
    return " OR ".join(clauses) or None


def _phone_predicate(lake: Lakehouse, table: Table, person: Person) -> str | None:
    """Rows whose phone column (as landed) standardises to one of the person's phones."""
    phones = person.identifiers.get("phone", set())
    columns = table.person.phone_columns if table.person else ()
    if not phones or not columns:
        return None
    data = lake.arrow_dataset(table).to_table(columns=list(columns))
    clauses = []
    for column in columns:
        landed = {
            v
            for v in data.column(column).to_pylist()
            if standardised_identifier("phone", v) in phones
        }
        if landed:
            clauses.append(_in(column, landed))
    return " OR ".join(clauses) or None


def person_predicate(lake: Lakehouse, table: Table, person: Person) -> str | None:
    """SQL selecting the person's rows in ``table`` (None: the table holds none of them)."""
    key = table.person
    if key is None:
        raise UnknownTableError(f"{table.qualified_name}: no person= declared in c360/tables.py")
    by_key = _key_predicate(lake, table, person)
    by_phone = _phone_predicate(lake, table, person)
    both = [p for p in (by_key, by_phone) if p]
    return " OR ".join(f"({p})" for p in both) if len(both) > 1 else (both[0] if both else None)


def _key_predicate(lake: Lakehouse, table: Table, person: Person) -> str | None:
    key = table.person
    if key.kind == "customer_id":
        ids = person.customer_ids
        return " OR ".join(_in(c, ids) for c in key.columns) if ids else None
    if key.kind == "record_key":
        keys = person.record_keys
        return " OR ".join(_in(c, keys) for c in key.columns) if keys else None
    if key.kind == "source_record":
        return _source_record_predicate(lake, table, person) if person.record_keys else None
    if key.kind == "raw":
        return _raw_predicate(lake, table, person)
    return None


def check_holds_no_person(lake: Lakehouse, table: Table, people: list[Person]) -> None:
    """A table declared ``none`` must hold none of the people's IDs or values.

    Raises:
        UnknownTableError: it does (its declaration is wrong), naming the column only.
    """
    data = lake.read_arrow(table)
    needles = set().union(*[p.values | p.record_ids() | p.customer_ids for p in people])
    for name in data.column_names:
        column = data.column(name)
        if not pa.types.is_string(column.type):
            continue
        if needles & {v for v in column.to_pylist() if v is not None}:
            raise UnknownTableError(
                f"{table.qualified_name}.{name} holds an erased person's value but the table "
                "is declared person=NO_PERSON in c360/tables.py: declare how it names a person"
            )
