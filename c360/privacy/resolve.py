"""Who an erasure request is: customers, their linked records, their identifiers and values.

Identifiers are matched as silver standardises them (c360.standardise), in bronze (which holds
records not in silver yet: the privacy stage runs before silver) and in silver/person_records;
the identity map then adds every record linked to the same customers.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field

import pyarrow as pa

from c360.contract import PERSON_SOURCES
from c360.lakehouse import Lakehouse
from c360.privacy.requests import ErasureRequest
from c360.privacy_rules import HASHED_FIELDS, standardised_identifier
from c360.standardise import IDENTITY_COLUMNS_BY_SOURCE, fold
from c360.tables import BRONZE_TABLES, GOLD_IDENTITY_MAP, SILVER_PERSON_RECORDS

# Landed identity fields whose values are searched in free text and files (besides the IDs).
TEXT_FIELDS: tuple[str, ...] = ("full_name", "phone", "email", "national_id", "address")
SILVER_TEXT_COLUMNS = (
    "full_name", "full_name_folded", "phone_e164", "email", "national_id", "address",
    "address_folded",
)  # fmt: skip
SILVER_IDENTIFIER_COLUMNS = {"phone": "phone_e164", "email": "email", "national_id": "national_id"}
MIN_NEEDLE_LENGTH = 5  # shorter values ("An") would match other people's text


@dataclass
class Person:
    """Everything one request resolves to (held in memory only, never written or logged)."""

    customer_ids: set[str] = field(default_factory=set)
    record_keys: set[str] = field(default_factory=set)  # "<source_system>:<source_record_id>"
    identifiers: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    values: set[str] = field(default_factory=set)  # landed and standardised text of theirs

    def needles(self) -> list[str]:
        """Text to find in files: values, IDs, and their JSON-escaped spellings."""
        plain = {v for v in self.values | self.record_ids() if len(v) >= MIN_NEEDLE_LENGTH}
        escaped = {json.dumps(v)[1:-1] for v in plain}
        return sorted(plain | escaped, key=len, reverse=True)

    def record_ids(self) -> set[str]:
        return {key.partition(":")[2] for key in self.record_keys}


@dataclass
class PersonIndex:
    """The person-bearing rows of the lakehouse, read once per privacy run."""

    bronze: dict[str, pa.Table]  # source system -> its bronze person table (identity columns)
    records: pa.Table | None  # silver/person_records (identifier columns)
    identity_map: pa.Table | None

    @classmethod
    def read(cls, lake: Lakehouse) -> PersonIndex:
        bronze = {}
        for system, entity in PERSON_SOURCES.items():
            table = BRONZE_TABLES[entity.name]
            if lake.exists(table):
                dataset = lake.arrow_dataset(table)
                columns = [c for c in dataset.schema.names if not c.startswith("_")]
                bronze[system] = dataset.to_table(columns=columns)
        records = None
        if lake.exists(SILVER_PERSON_RECORDS):
            dataset = lake.arrow_dataset(SILVER_PERSON_RECORDS)
            names = ["record_key", *[c for c in SILVER_TEXT_COLUMNS if c in dataset.schema.names]]
            records = dataset.to_table(columns=names)
        mapping = None
        if lake.exists(GOLD_IDENTITY_MAP):
            mapping = lake.arrow_dataset(GOLD_IDENTITY_MAP).to_table(
                columns=["source_system", "source_record_id", "customer_id"]
            )
        return cls(bronze, records, mapping)

    # ---- matching --------------------------------------------------------------------------
    def _bronze_rows(self, system: str):
        """(record_key, {field: landed value}) per bronze row of ``system``."""
        table = self.bronze.get(system)
        if table is None:
            return
        entity = PERSON_SOURCES[system]
        columns = IDENTITY_COLUMNS_BY_SOURCE[system]
        fields = {f: getattr(columns, f, None) for f in TEXT_FIELDS}
        fields = {f: c for f, c in fields.items() if c is not None and c in table.column_names}
        data = {f: table.column(c).to_pylist() for f, c in fields.items()}
        for i, record_id in enumerate(table.column(entity.key_column).to_pylist()):
            if record_id is None or not str(record_id).strip():
                continue
            yield f"{system}:{str(record_id).strip()}", {f: data[f][i] for f in data}

    def records_with(self, kind: str, value: str) -> set[str]:
        """Record keys whose standardised ``kind`` (phone, email, national_id) is ``value``."""
        keys = set()
        for system in self.bronze:
            for key, landed in self._bronze_rows(system):
                if standardised_identifier(kind, landed.get(kind)) == value:
                    keys.add(key)
        if (
            self.records is not None
            and SILVER_IDENTIFIER_COLUMNS[kind] in self.records.column_names
        ):
            column = self.records.column(SILVER_IDENTIFIER_COLUMNS[kind]).to_pylist()
            record_keys = self.records.column("record_key").to_pylist()
            keys |= {k for k, v in zip(record_keys, column, strict=False) if v == value}
        return keys

    def _map_rows(self):
        if self.identity_map is None:
            return []
        return zip(
            self.identity_map.column("source_system").to_pylist(),
            self.identity_map.column("source_record_id").to_pylist(),
            self.identity_map.column("customer_id").to_pylist(),
            strict=False,
        )

    def resolve(self, request: ErasureRequest) -> Person:
        """The customers and records a request names, and every value they hold."""
        person = Person()
        if request.kind == "customer_id":
            person.customer_ids.add(request.value)
        elif request.kind == "source_record":
            person.record_keys.add(request.value)
        else:
            person.record_keys |= self.records_with(request.kind, request.value)
            person.identifiers[request.kind].add(request.value)
        rows = list(self._map_rows())
        person.customer_ids |= {c for s, r, c in rows if f"{s}:{r}" in person.record_keys}
        person.record_keys |= {f"{s}:{r}" for s, r, c in rows if c in person.customer_ids}
        self._collect_values(person)
        return person

    def _collect_values(self, person: Person) -> None:
        """Landed and standardised values of the person's records (for text and hashes)."""
        for system in self.bronze:
            for key, landed in self._bronze_rows(system):
                if key not in person.record_keys:
                    continue
                for field_name, raw in landed.items():
                    if raw is None or not str(raw).strip():
                        continue
                    person.values.add(str(raw).strip())
                    hashed = field_name in HASHED_FIELDS
                    value = standardised_identifier(field_name, raw) if hashed else None
                    if value is not None:
                        person.identifiers[field_name].add(value)
                        person.values.add(value)
                    if field_name == "full_name" and (folded := fold(str(raw))):
                        person.values.add(folded)
        if self.records is None:
            return
        keys = self.records.column("record_key").to_pylist()
        mine = [i for i, k in enumerate(keys) if k in person.record_keys]
        for column in (c for c in SILVER_TEXT_COLUMNS if c in self.records.column_names):
            values = self.records.column(column).to_pylist()
            person.values |= {str(values[i]) for i in mine if values[i]}
        for kind, column in SILVER_IDENTIFIER_COLUMNS.items():
            if column in self.records.column_names:
                values = self.records.column(column).to_pylist()
                person.identifiers[kind] |= {values[i] for i in mine if values[i]}
