"""Silver profile columns (issue 20): the optional CRM / ERP / loyalty columns and the declared
custom fields, typed and read against their vocabularies (``conf/profile_fields.yaml``).

A value that does not read (not in its vocabulary, not a number, unreadable social IDs) is
nulled and flagged like an identity field: its landed text in ``raw_values`` and the problem in
``field_issues``; the record is kept. A column the extract lacks is null.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, BooleanType, StringType

from c360 import standardise
from c360.profile_fields import (
    VOCABULARY_COLUMNS,
    CustomField,
    ProfileFieldRules,
    Vocabulary,
    parse_social_ids,
)
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


@F.pandas_udf(BooleanType())
def _bool_udf(values: pd.Series) -> pd.Series:
    """yes / no in the consent spellings of conf/standardise.yaml; null when unknown."""
    parsed = {v: standardise.parse_consent(v) for v in values.dropna().unique()}
    return values.map(parsed).astype("boolean")


# a vocabulary column: the code, flagged when the UDF could not read the value
_CODED = (lambda p: F.when(p != UNREADABLE, p), lambda p: F.coalesce(p == UNREADABLE, F.lit(False)))


def _parsed(frame: DataFrame, rules: ProfileFieldRules, custom: Sequence[CustomField]):
    """(name, parsed expression, value of the parsed column, flagged, issue) per column."""
    keep: Callable[[Column], Column] = lambda parsed: parsed  # noqa: E731
    never: Callable[[Column], Column] = lambda _: F.lit(False)  # noqa: E731
    specs = [
        (name, _vocabulary_udf(rules.vocabularies[name])(_landed(frame, name)), *_CODED,
         f"{name}: {VOCABULARY_ISSUE}")
        for name in VOCABULARY_COLUMNS
    ]  # fmt: skip
    specs += [
        ("device_id", _landed(frame, "device_id"), keep, never, ""),
        ("social_ids", _social_ids_udf(_landed(frame, "social_ids")),
         lambda p: F.when(~F.array_contains(p, UNREADABLE), p),
         lambda p: F.coalesce(F.array_contains(p, UNREADABLE), F.lit(False)),
         "social_ids: not network:id pairs (raw kept)"),
        ("profile_owner", _normalised_udf(_landed(frame, "profile_owner")), keep, never, ""),
    ]  # fmt: skip
    for field in custom:
        landed = _landed(frame, field.name)
        if field.vocabulary is not None:
            vocabulary = rules.vocabularies[field.vocabulary]
            specs.append((field.name, _vocabulary_udf(vocabulary)(landed), *_CODED,
                          f"{field.name}: {VOCABULARY_ISSUE}"))  # fmt: skip
        elif field.type == "string":
            specs.append((field.name, _normalised_udf(landed), keep, never, ""))
        else:
            issue = f"{field.name}: not {TYPE_WORDS[field.type]} (raw kept)"
            specs.append(
                (field.name, _typed_value(field.type, landed), keep, _unread(landed), issue)
            )
    return specs


def _unread(landed: Column) -> Callable[[Column], Column]:
    """Flagged: a landed value whose typed value is null."""
    return lambda parsed: landed.isNotNull() & parsed.isNull()


def _typed_value(kind: str, landed: Column) -> Column:
    if kind == "int":
        return F.regexp_replace(landed, r"\.0+$", "").try_cast("bigint")
    if kind == "double":
        return landed.try_cast("double")
    if kind == "date":
        return F.coalesce(*[F.to_date(F.try_to_timestamp(landed, F.lit(f))) for f in DATE_FORMATS])
    return _bool_udf(landed)


def with_profile_columns(
    frame: DataFrame, rules: ProfileFieldRules, custom: Sequence[CustomField]
) -> tuple[DataFrame, list[ProfileColumn]]:
    """``frame`` (bronze columns) with each profile column parsed once (``_parsed_<name>``;
    every Python UDF runs once per row), and the columns' value / flag over them."""
    specs = _parsed(frame, rules, custom)
    parsed = frame.select("*", *[expr.alias(f"_parsed_{name}") for name, expr, *_ in specs])
    columns = [
        ProfileColumn(name, value(F.col(f"_parsed_{name}")), bad(F.col(f"_parsed_{name}")), issue)
        for name, _, value, bad, issue in specs
    ]
    return parsed, columns


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


__all__ = ["ProfileColumn", "profile_issues", "profile_raw_values", "with_profile_columns"]
