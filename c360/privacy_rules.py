"""Privacy rules shared by the stages: ``conf/privacy.yaml``, identifier standardisation and the
salted hashes of the suppression list (``gold/privacy_suppression``).

Bronze checks new rows against the suppression list (:func:`erased_mask`); the privacy stage
(:mod:`c360.privacy`) fills it. A hash is ``HMAC-SHA256(salt, "<kind>:<standardised value>")``
with the salt from the environment variable ``erasure.salt_env`` names (never in git), so the
list reveals nothing without the salt.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

import pyarrow as pa
import pyarrow.compute as pc
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from c360.config import CONF_DIR
from c360.contract import PERSON_SOURCES, SourceEntity
from c360.errors import ConfigurationError
from c360.standardise import (
    IDENTITY_COLUMNS_BY_SOURCE,
    standardise_email,
    standardise_national_id,
    standardise_phone,
)
from c360.tables import CONSENT_PURPOSES, PRIVACY_SUPPRESSION

PRIVACY_CONFIG_FILE = CONF_DIR / "privacy.yaml"
ERASED_REASON = "erased"
IdentifierKind = Literal["customer_id", "phone", "email", "national_id", "source_record"]
# The identity fields whose standardised values go on the suppression list.
HASHED_FIELDS: tuple[str, ...] = ("phone", "email", "national_id")


class PrivacyConfigError(ConfigurationError):
    """``conf/privacy.yaml`` cannot be used; the message names the key."""


class ErasureSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    deadline_hours: float = Field(gt=0)
    salt_env: str = Field(min_length=1)
    redacted_text: str = "[erased]"


class PrivacyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    purposes: tuple[str, ...]
    extract_columns: dict[str, str]
    same_time_rule: Literal["withdrawn_wins"]
    erasure: ErasureSettings
    tf_minimum_count: int = Field(ge=1)

    @model_validator(mode="after")
    def _check(self) -> PrivacyConfig:
        if tuple(self.purposes) != CONSENT_PURPOSES:
            raise ValueError(
                f"purposes must be {list(CONSENT_PURPOSES)} (the golden record's consent "
                "columns, c360/tables.py CONSENT_PURPOSES): change both together"
            )
        if unknown := sorted(set(self.extract_columns.values()) - set(self.purposes)):
            raise ValueError(f"extract_columns: unknown purposes {unknown}")
        return self


@lru_cache(maxsize=4)
def load_privacy_config(path: Path | None = None) -> PrivacyConfig:
    """Read and validate ``conf/privacy.yaml`` (or ``path``).

    Raises:
        PrivacyConfigError: missing file, bad YAML or a wrong key (named).
    """
    path = Path(path) if path is not None else PRIVACY_CONFIG_FILE
    try:
        return PrivacyConfig.model_validate(yaml.safe_load(path.read_text("utf-8")) or {})
    except FileNotFoundError as exc:
        raise PrivacyConfigError(f"{path}: privacy configuration not found") from exc
    except (yaml.YAMLError, ValidationError) as exc:
        raise PrivacyConfigError(f"{path}: {exc}") from exc


def suppression_salt(config: PrivacyConfig | None = None) -> bytes:
    """The salt of the suppression hashes, from the environment.

    Raises:
        PrivacyConfigError: the variable is unset or empty (names it, never prints a value).
    """
    env = (config or load_privacy_config()).erasure.salt_env
    salt = os.environ.get(env, "")
    if not salt:
        raise PrivacyConfigError(
            f"environment variable {env} (conf/privacy.yaml erasure.salt_env) is not set: the "
            "suppression list is hashed with it; set it to the same secret on every run"
        )
    return salt.encode("utf-8")


def standardised_identifier(kind: str, value: object) -> str | None:
    """An identifier as silver standardises it (None when empty or not usable).

    ``source_record`` values are ``"<source_system>:<source_record_id>"`` (system lower-cased).
    """
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    if kind == "phone":
        return standardise_phone(text)[0]
    if kind == "email":
        return standardise_email(text)[0]
    if kind == "national_id":
        return standardise_national_id(text)[0]
    if kind == "source_record":
        system, sep, record_id = text.partition(":")
        return (
            f"{system.strip().lower()}:{record_id.strip()}" if sep and record_id.strip() else None
        )
    if kind == "customer_id":
        return text
    raise ValueError(f"unknown identifier kind {kind!r}")


def identifier_hash(kind: str, standardised: str, salt: bytes) -> str:
    """Hex HMAC-SHA256 of ``"<kind>:<standardised>"``."""
    return hmac.new(salt, f"{kind}:{standardised}".encode(), hashlib.sha256).hexdigest()


def read_suppression(lake) -> frozenset[str]:
    """Every hash on the suppression list (empty when there is none)."""
    if not lake.exists(PRIVACY_SUPPRESSION):
        return frozenset()
    column = lake.arrow_dataset(PRIVACY_SUPPRESSION).to_table(columns=["identifier_hash"])
    return frozenset(column.column(0).to_pylist())


def _record_refs(entity: SourceEntity, rows: pa.Table) -> list[str | None]:
    """``system:id`` of the person record each bronze row belongs to (None when none)."""
    columns = entity.person_columns
    if not columns:
        return [None] * rows.num_rows
    if entity.person_system is not None:
        ids = rows.column(columns[0]).to_pylist()
        return [f"{entity.person_system}:{i}" if i is not None else None for i in ids]
    systems = rows.column(columns[0]).to_pylist()
    ids = rows.column(columns[1]).to_pylist()
    pairs = zip(systems, ids, strict=True)
    return [f"{s}:{i}" if s is not None and i is not None else None for s, i in pairs]


def row_hashes(entity: SourceEntity, rows: pa.Table, salt: bytes) -> list[set[str]]:
    """Per bronze row: the hashes of its record reference and of its identity fields."""
    hashes: list[set[str]] = [set() for _ in range(rows.num_rows)]
    for i, ref in enumerate(_record_refs(entity, rows)):
        if (value := standardised_identifier("source_record", ref)) is not None:
            hashes[i].add(identifier_hash("source_record", value, salt))
    columns = (
        IDENTITY_COLUMNS_BY_SOURCE.get(entity.source) if entity in PERSON_SOURCES.values() else None
    )
    if entity.phone_column and entity.phone_column in rows.column_names:
        for i, raw in enumerate(rows.column(entity.phone_column).to_pylist()):
            if (value := standardised_identifier("phone", raw)) is not None:
                hashes[i].add(identifier_hash("phone", value, salt))
    for field in HASHED_FIELDS if columns is not None else ():
        column = getattr(columns, field, None)
        if column is None or column not in rows.column_names:
            continue
        for i, raw in enumerate(rows.column(column).to_pylist()):
            if (value := standardised_identifier(field, raw)) is not None:
                hashes[i].add(identifier_hash(field, value, salt))
    return hashes


def erased_mask(entity: SourceEntity, rows: pa.Table, suppressed: frozenset[str]) -> pa.Array:
    """True for the bronze rows carrying an identifier on the suppression list."""
    if not suppressed or rows.num_rows == 0:
        return pa.array([False] * rows.num_rows, pa.bool_())
    salt = suppression_salt()
    return pa.array([bool(h & suppressed) for h in row_hashes(entity, rows, salt)], pa.bool_())


def split_erased(
    entity: SourceEntity, rows: pa.Table, suppressed: frozenset[str]
) -> tuple[pa.Table, pa.Table]:
    """(rows kept, rows of erased people) of a bronze day."""
    mask = erased_mask(entity, rows, suppressed)
    return rows.filter(pc.invert(mask)), rows.filter(mask)
