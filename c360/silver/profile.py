"""Silver profile columns (issue 20): the optional CRM / ERP / loyalty columns and the declared
custom fields, typed and read against their vocabularies (``conf/profile_fields.yaml``).

A value that does not read (not in its vocabulary, not a number, unreadable social IDs) is
nulled and flagged like an identity field: its landed text in ``raw_values`` and the problem in
``field_issues``; the record is kept. A column the extract lacks is null.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, BooleanType, StringType

from c360 import standardise
from c360.profile_fields import CustomField, ProfileFieldRules, Vocabulary, parse_social_ids
from c360.silver.columns import clean
from c360.standardise import default_rules, fold, normalise_text

# What the UDFs return for a landed value they cannot read (never a code: codes are snake_case).
UNREADABLE = "?"
VOCABULARY_ISSUE = "not in the vocabulary (raw kept)"
DATE_FORMATS = ("yyyy-MM-dd", "dd/MM/yyyy", "yyyyMMdd")
TYPE_WORDS = {"int": "an integer", "double": "a number", "date": "a date", "bool": "yes/no"}


@dataclass(frozen=True)
class ProfileColumn:
    """One silver profile column: its value, and when its landed text is flagged (and why)."""

    name: str
    value: Column
    bad: Column
    issue: str


def _vocabulary_udf(vocabulary: Vocabulary):
    placeholders = frozenset(default_rules().null_placeholders)
    lookup = dict(vocabulary.lookup)  # plain data for the Python workers

    @F.pandas_udf(StringType())
    def read(values: pd.Series) -> pd.Series:
        def code(value: str) -> str | None:
            folded = fold(value)
            if folded is None or folded in placeholders:
                return None
            return lookup.get(folded, UNREADABLE)

        codes = {v: code(v) for v in values.dropna().unique()}
        return _mapped(values, codes)

    return read


@F.pandas_udf(ArrayType(StringType()))
def _social_ids_udf(values: pd.Series) -> pd.Series:
    def read(value: str) -> list[str] | None:
        try:
            return parse_social_ids(value)
        except ValueError:
            return [UNREADABLE]

    return values.map(read, na_action="ignore")


@F.pandas_udf(StringType())
def _normalised_udf(values: pd.Series) -> pd.Series:
    texts = {v: normalise_text(v) for v in values.dropna().unique()}
    return _mapped(values, texts)


def _mapped(values: pd.Series, by_value: dict[str, str | None]) -> pd.Series:
    """``values`` mapped through ``by_value`` as text (None, never NaN, where nothing maps)."""
    return pd.Series([by_value.get(v) for v in values], index=values.index, dtype=object)


def _landed(frame: DataFrame, column: str) -> Column:
    return clean(column) if column in frame.columns else F.lit(None).cast("string")


def _coded(name: str, landed: Column, vocabulary: Vocabulary) -> ProfileColumn:
    code = _vocabulary_udf(vocabulary)(landed)
    return ProfileColumn(
        name, F.when(code != UNREADABLE, code), code == UNREADABLE, f"{name}: {VOCABULARY_ISSUE}"
    )


def _typed(custom: CustomField, landed: Column, rules: ProfileFieldRules) -> ProfileColumn:
    if custom.vocabulary is not None:
        return _coded(custom.name, landed, rules.vocabularies[custom.vocabulary])
    if custom.type == "string":
        return ProfileColumn(custom.name, _normalised_udf(landed), F.lit(False), "")
    value = {
        "int": lambda: F.regexp_replace(landed, r"\.0+$", "").try_cast("bigint"),
        "double": lambda: landed.try_cast("double"),
        "date": lambda: F.coalesce(
            *[F.to_date(F.try_to_timestamp(landed, F.lit(f))) for f in DATE_FORMATS]
        ),
        "bool": lambda: _bool_udf(landed),
    }[custom.type]()
    return ProfileColumn(
        custom.name,
        value,
        landed.isNotNull() & value.isNull(),
        f"{custom.name}: not {TYPE_WORDS[custom.type]} (raw kept)",
    )


@F.pandas_udf(BooleanType())
def _bool_udf(values: pd.Series) -> pd.Series:
    """yes / no in the consent spellings of conf/standardise.yaml; null when unknown."""
    parsed = {v: standardise.parse_consent(v) for v in values.dropna().unique()}
    return values.map(parsed).astype("boolean")


def profile_columns(
    frame: DataFrame, rules: ProfileFieldRules, custom: Sequence[CustomField]
) -> list[ProfileColumn]:
    """The silver profile columns of a person build over ``frame`` (bronze columns)."""
    columns = [
        _coded(name, _landed(frame, name), rules.vocabularies[name])
        for name in ("lead_source", "occupation", "industry", "education", "marital_status")
    ]
    social = _social_ids_udf(_landed(frame, "social_ids"))
    columns += [
        ProfileColumn("device_id", _landed(frame, "device_id"), F.lit(False), ""),
        ProfileColumn(
            "social_ids",
            F.when(~F.array_contains(social, UNREADABLE), social),
            F.coalesce(F.array_contains(social, UNREADABLE), F.lit(False)),
            "social_ids: not network:id pairs (raw kept)",
        ),
        ProfileColumn(
            "profile_owner", _normalised_udf(_landed(frame, "profile_owner")), F.lit(False), ""
        ),
    ]
    columns += [_typed(c, _landed(frame, c.name), rules) for c in custom]
    return columns


def profile_issues(columns: Sequence[ProfileColumn]) -> Column:
    """field_issues entries of the flagged profile columns."""
    return F.array_compact(F.array(*[F.when(c.bad, F.lit(c.issue)) for c in columns if c.issue]))


def profile_raw_values(frame: DataFrame, columns: Sequence[ProfileColumn]) -> Column:
    """raw_values entries (landed text) of the flagged profile columns."""
    entries = [
        part
        for c in columns
        if c.issue
        for part in (F.lit(c.name), F.when(c.bad, _landed(frame, c.name)))
    ]
    return F.map_filter(F.create_map(*entries), lambda _, value: value.isNotNull())


__all__ = ["ProfileColumn", "profile_columns", "profile_issues", "profile_raw_values"]
