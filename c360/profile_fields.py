"""Profile fields beyond identity (``conf/profile_fields.yaml``, issue 20): vocabularies of the
optional CRM / ERP / loyalty columns and the custom fields a company declares.

Pure Python (no Spark): silver applies :meth:`Vocabulary.code` and :func:`parse_social_ids` to
the few distinct landed values; the golden record carries each field with provenance.

Example:
    >>> rules = load_profile_fields()
    >>> rules.vocabularies["industry"].code("Giáo dục")
    'education'
    >>> parse_social_ids("zalo:123; Facebook : abc")
    ['facebook:abc', 'zalo:123']
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Literal

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from c360.config import CONF_DIR, ConfigError, read_yaml_rules, validation_message
from c360.contract import CONSENT_EVENTS, PERSON_SOURCES, PROFILE_COLUMNS, SOURCE_SYSTEMS
from c360.standardise.folding import fold
from c360.tables import (
    GOLD_GOLDEN_RECORDS_SCHEMA,
    SILVER_PERSON_RECORDS_SCHEMA,
    SILVER_PERSON_TABLES,
    SILVER_SCHEMAS,
)

PROFILE_FIELDS_FILE = CONF_DIR / "profile_fields.yaml"
# The optional columns read against a vocabulary (the others: device_id, social_ids,
# profile_owner are identifiers or free text).
VOCABULARY_COLUMNS = ("lead_source", "occupation", "industry", "education", "marital_status")
CustomType = Literal["string", "int", "double", "date", "bool"]
SurvivorshipRule = Literal["source_priority", "most_recent", "most_frequent"]
ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "int": pa.int64(),
    "double": pa.float64(),
    "date": pa.date32(),
    "bool": pa.bool_(),
}
_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")
_CODE = re.compile(r"[a-z][a-z0-9_]*")
# "zalo:123", "facebook=abc", '{"zalo": "123"}', '[{"network": "zalo", "id": "123"}]'
_PAIR_SPLIT = re.compile(r"[;,|\n]+")
_PAIR = re.compile(r"^\s*([A-Za-z][\w .-]*?)\s*[:=]\s*(\S.*?)\s*$")


class Vocabulary(BaseModel):
    """Canonical codes and their synonyms; compared after folding (diacritics, case, punctuation).

    A code matches itself too (``landing_page`` as ``landing page``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    codes: dict[str, tuple[str, ...]] = Field(min_length=1)

    @field_validator("codes")
    @classmethod
    def _codes(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        if bad := [c for c in value if not _CODE.fullmatch(c)]:
            raise ValueError(f"codes must be lower_snake_case: {bad}")
        owners: dict[str, str] = {}
        for code, synonyms in value.items():
            for spelling in (code, *synonyms):
                folded = fold(spelling)
                if folded is None:
                    raise ValueError(f"{code}: the synonym {spelling!r} is empty once folded")
                if owners.setdefault(folded, code) != code:
                    raise ValueError(
                        f"{spelling!r} (folded {folded!r}) is a synonym of both "
                        f"{owners[folded]!r} and {code!r}"
                    )
        return value

    @functools.cached_property
    def lookup(self) -> dict[str, str]:
        """Folded spelling -> code."""
        return {
            fold(spelling): code
            for code, synonyms in self.codes.items()
            for spelling in (code, *synonyms)
        }

    def code(self, value: str | None) -> str | None:
        """The canonical code of a landed value; None when empty or unknown."""
        folded = fold(value)
        return None if folded is None else self.lookup.get(folded)


class CustomField(BaseModel):
    """One extra column a company lands (Mobio's custom fields)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    sources: tuple[str, ...] = Field(min_length=1)
    type: CustomType = "string"
    vocabulary: str | None = None  # a key of `vocabularies` (string fields only)
    survivorship: SurvivorshipRule = "most_recent"
    description: str = ""

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.fullmatch(value):
            raise ValueError(f"{value!r} is not a lower_snake_case column name")
        return value

    @field_validator("sources")
    @classmethod
    def _sources(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if bad := [s for s in value if s not in SOURCE_SYSTEMS]:
            raise ValueError(f"unknown sources {bad}; person sources: {list(SOURCE_SYSTEMS)}")
        return value

    @property
    def arrow_type(self) -> pa.DataType:
        return ARROW_TYPES[self.type]


class ProfileFieldRules(BaseModel):
    """``conf/profile_fields.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    vocabularies: dict[str, Vocabulary]
    custom_fields: tuple[CustomField, ...] = ()

    @model_validator(mode="after")
    def _check(self) -> ProfileFieldRules:
        if missing := [c for c in VOCABULARY_COLUMNS if c not in self.vocabularies]:
            raise ValueError(f"vocabularies: missing {missing}")
        seen: set[str] = set()
        for i, custom in enumerate(self.custom_fields):
            where = f"custom_fields.{i} ({custom.name})"
            if custom.name in seen:
                raise ValueError(f"{where}: declared twice")
            seen.add(custom.name)
            if custom.name in RESERVED_COLUMNS or custom.name.endswith("_source"):
                raise ValueError(f"{where}: the name is a built-in column; choose another")
            if custom.vocabulary is not None:
                if custom.type != "string":
                    raise ValueError(f"{where}: a vocabulary needs type string")
                if custom.vocabulary not in self.vocabularies:
                    raise ValueError(
                        f"{where}: vocabulary {custom.vocabulary!r} is not under vocabularies "
                        f"({sorted(self.vocabularies)})"
                    )
        return self

    def custom_of(self, system: str) -> tuple[CustomField, ...]:
        """The custom fields the source ``system`` lands."""
        return tuple(c for c in self.custom_fields if system in c.sources)


# Names a custom field may not take: the landed / silver / golden columns it would shadow.
RESERVED_COLUMNS = frozenset(
    {
        *PROFILE_COLUMNS,
        *(c for e in PERSON_SOURCES.values() for c in e.required_columns),
        *(c for schema in SILVER_SCHEMAS.values() for c in schema.names),
        *GOLD_GOLDEN_RECORDS_SCHEMA.names,
        *CONSENT_EVENTS.required_columns,
    }
)


def parse_social_ids(text: str | None) -> list[str] | None:
    """Social IDs as sorted unique ``network:id`` (network lower-case, id trimmed).

    Reads ``"zalo:123;facebook:abc"`` (``;``, ``,``, ``|`` or newlines between pairs, ``:`` or
    ``=`` inside), a JSON object ``{"zalo": "123"}`` and a JSON list of such pairs or of
    ``{"network": ..., "id": ...}``. None when empty; raises ValueError when not readable.
    """
    if text is None or not text.strip():
        return None
    pairs = _json_pairs(text.strip())
    if pairs is None:
        pairs = []
        for part in _PAIR_SPLIT.split(text):
            if not part.strip():
                continue
            found = _PAIR.match(part)
            if not found:
                raise ValueError("not network:id pairs")
            pairs.append((found[1], found[2]))
    ids = {f"{fold(n).replace(' ', '_')}:{str(i).strip()}" for n, i in pairs if str(i).strip()}
    if not ids:
        raise ValueError("no network:id pair")
    return sorted(ids)


def _json_pairs(text: str) -> list[tuple[str, str]] | None:
    if text[0] not in "{[":
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        raise ValueError("not valid JSON") from None
    items = data if isinstance(data, list) else [data]
    pairs: list[tuple[str, str]] = []
    for item in items:
        if isinstance(item, str):
            found = _PAIR.match(item)
            if not found:
                raise ValueError("not network:id pairs")
            pairs.append((found[1], found[2]))
        elif isinstance(item, dict) and {"network", "id"} <= set(item):
            pairs.append((str(item["network"]), str(item["id"])))
        elif isinstance(item, dict):
            pairs += [(str(k), str(v)) for k, v in item.items() if v is not None]
        else:
            raise ValueError("not network:id pairs")
    if any(fold(n) is None for n, _ in pairs):
        raise ValueError("a network name is empty")
    return pairs


def silver_person_schema(system: str, rules: ProfileFieldRules | None = None) -> pa.Schema:
    """The silver person table of ``system``: c360.tables' schema, then its custom fields."""
    base = SILVER_SCHEMAS[SILVER_PERSON_TABLES[system].name]
    custom = (rules or load_profile_fields()).custom_of(system)
    return _appended(base, [(c.name, c.arrow_type) for c in custom])


def person_records_schema(rules: ProfileFieldRules | None = None) -> pa.Schema:
    """``silver/person_records``: c360.tables' schema, then every custom field."""
    custom = (rules or load_profile_fields()).custom_fields
    return _appended(SILVER_PERSON_RECORDS_SCHEMA, [(c.name, c.arrow_type) for c in custom])


def golden_schema(rules: ProfileFieldRules | None = None) -> pa.Schema:
    """``gold/golden_records``: c360.tables' schema, then each custom field and its source."""
    custom = (rules or load_profile_fields()).custom_fields
    extra = [
        (n, t)
        for c in custom
        for n, t in ((c.name, c.arrow_type), (f"{c.name}_source", pa.string()))
    ]
    return _appended(GOLD_GOLDEN_RECORDS_SCHEMA, extra)


def _appended(schema: pa.Schema, fields: list[tuple[str, pa.DataType]]) -> pa.Schema:
    for name, dtype in fields:
        schema = schema.append(pa.field(name, dtype))
    return schema


@functools.lru_cache(maxsize=4)
def _load(path: Path) -> ProfileFieldRules:
    raw = read_yaml_rules(path)
    vocabularies = raw.get("vocabularies")
    if isinstance(vocabularies, dict):  # codes directly under the field name
        raw = {**raw, "vocabularies": {k: {"codes": v} for k, v in vocabularies.items()}}
    try:
        return ProfileFieldRules.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(validation_message(exc, path, "profile fields")) from exc


def load_profile_fields(path: Path = PROFILE_FIELDS_FILE) -> ProfileFieldRules:
    """The validated profile-field rules (cached per path).

    Raises:
        ConfigError: unreadable YAML, an unknown key, a synonym of two codes, a bad custom field;
            the message names the file and the key.
    """
    return _load(Path(path))
