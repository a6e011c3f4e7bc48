"""Standardise a batch of landed identity columns into the IDENTITY_FIELDS of c360/tables.py.

Runs per pandas / Arrow batch (Spark ``mapInPandas``). Every landed column is factorised and
each distinct value standardised once, so repeated names and provinces cost one call.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from c360.contract import CRM_CONTACTS, ERP_CUSTOMERS, LOYALTY_MEMBERS
from c360.standardise.dates import IN_THE_FUTURE, parse_extract_date, today_local
from c360.standardise.fields import (
    standardise_gender,
    standardise_province,
    uncached_standardise_email,
    uncached_standardise_national_id,
    uncached_standardise_phone,
)
from c360.standardise.rules import StandardiseRules, default_rules
from c360.standardise.text import (
    as_text,
    clean_text,
    fold_address,
    fold_normalised,
    has_letter,
    repair_typing_residue,
    split_folded_name,
    strip_viqr_marks,
)
from c360.tables import IDENTITY_FIELDS

if TYPE_CHECKING:
    from pyspark.sql import DataFrame
    from pyspark.sql.types import StructType

log = logging.getLogger(__name__)

IDENTITY_COLUMN_NAMES: tuple[str, ...] = tuple(name for name, _ in IDENTITY_FIELDS)
FULL_NAME_NO_LETTERS = "full_name: no letters"


@dataclass(frozen=True)
class IdentityColumns:
    """The landed column holding each identity field of a source; None when it has none.

    Keys of ``raw_values`` and prefixes of ``field_issues`` are these field names.
    """

    full_name: str | None = None
    gender: str | None = None
    date_of_birth: str | None = None
    phone: str | None = None
    email: str | None = None
    national_id: str | None = None
    address: str | None = None
    province: str | None = None

    def landed(self) -> dict[str, str]:
        """Field name -> landed column, for the fields this source has."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}


# The person-bearing sources of the landing-zone contract.
IDENTITY_COLUMNS_BY_SOURCE: dict[str, IdentityColumns] = {
    CRM_CONTACTS.source: IdentityColumns(
        full_name="full_name", gender="gender", date_of_birth="date_of_birth", phone="phone",
        email="email", national_id="national_id", address="address", province="province",
    ),
    ERP_CUSTOMERS.source: IdentityColumns(
        full_name="name", phone="phone", email="email", national_id="national_id",
        address="billing_address", province="province",
    ),
    LOYALTY_MEMBERS.source: IdentityColumns(
        full_name="full_name", gender="gender", date_of_birth="date_of_birth", phone="phone",
        email="email",
    ),
}  # fmt: skip


def _name(raw: object, rules: StandardiseRules) -> tuple[Any, ...]:
    text = clean_text(raw, rules)
    if text is None:
        return None, None, None, None, None, None
    folded = fold_normalised(strip_viqr_marks(text))
    if folded is None or not has_letter(folded):
        return None, None, None, None, None, FULL_NAME_NO_LETTERS
    folded = repair_typing_residue(folded, rules.name_vocabulary)
    return (text, folded, *split_folded_name(folded, rules), None)


def _address(raw: object, rules: StandardiseRules) -> tuple[Any, ...]:
    text = clean_text(raw, rules)
    return (None, None, None) if text is None else (text, fold_address(text, rules), None)


def _date_of_birth(raw: object, rules: StandardiseRules) -> tuple[Any, ...]:
    # No upper bound here: "in the future" is checked per row against the as-of date.
    return parse_extract_date(raw, latest=date.max, rules=rules)


# field -> (function of (raw, rules) returning a tuple, output column per tuple position;
#           the last position is always the issue)
_FIELD_STANDARDISERS: dict[str, tuple[Callable[..., tuple[Any, ...]], tuple[str, ...]]] = {
    "full_name": (
        _name, ("full_name", "full_name_folded", "family_name", "middle_name", "given_name"),
    ),
    "gender": (standardise_gender, ("gender",)),
    "date_of_birth": (_date_of_birth, ("date_of_birth",)),
    # Phones, e-mails and IDs are nearly all distinct: no cache across batches.
    "phone": (uncached_standardise_phone, ("phone_e164",)),
    "email": (uncached_standardise_email, ("email",)),
    "national_id": (uncached_standardise_national_id, ("national_id", "national_id_type")),
    "address": (_address, ("address", "address_folded")),
    "province": (standardise_province, ("province", "region")),
}  # fmt: skip


def _per_distinct_value(
    values: pd.Series, function: Callable[..., tuple[Any, ...]], rules: StandardiseRules, width: int
) -> list[np.ndarray]:
    """``function`` applied once per distinct value, expanded back to one array per position."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    results = [function(u, rules) for u in uniques]
    results.append((None,) * width)  # code -1 (missing) picks this row
    out = []
    for position in zip(*results, strict=True):
        per_unique = np.empty(len(results), dtype=object)
        per_unique[:] = position
        out.append(per_unique[codes])
    return out


def standardise_identity(
    frame: pd.DataFrame,
    columns: IdentityColumns,
    rules: StandardiseRules | None = None,
    as_of: date | pd.Series | None = None,
) -> pd.DataFrame:
    """The IDENTITY_FIELDS of ``frame``'s landed identity columns, row-aligned with it.

    A bad field in a usable row is nulled, its landed value kept in ``raw_values`` (keyed by
    the field name of :class:`IdentityColumns`) and the problem listed in ``field_issues``.
    A field changed because of an issue (day/month swap, corrected e-mail domain, restored
    CCCD zero) keeps the new value, and its landed value and the issue are recorded the same way.

    Args:
        frame: landed rows (strings; None / NaN for missing).
        columns: which column holds each field (fields a source lacks come out null).
        rules: standardisation rules; ``conf/standardise.yaml`` when omitted.
        as_of: birth dates after this date are impossible: one date, or a Series of dates
            aligned with ``frame`` (e.g. the ingest date); today in Asia/Ho_Chi_Minh by default.

    Returns:
        The IDENTITY_FIELDS columns in order, on ``frame``'s index: strings (object),
        ``date_of_birth`` as ``datetime.date``, ``field_issues`` a list (empty when none) and
        ``raw_values`` a dict (what Spark's Arrow conversion of a map column expects).

    Raises:
        KeyError: a column named in ``columns`` is not in ``frame``.
    """
    rules = rules or default_rules()
    n = len(frame)
    missing = [c for c in columns.landed().values() if c not in frame.columns]
    if missing:
        raise KeyError(f"landed identity columns not in the batch: {missing}")
    out: dict[str, np.ndarray] = {
        name: np.full(n, None, dtype=object) for name in IDENTITY_COLUMN_NAMES
    }
    issues: list[tuple[str, np.ndarray, np.ndarray]] = []  # (field, issue per row, landed values)
    for field_name, column in columns.landed().items():
        function, targets = _FIELD_STANDARDISERS[field_name]
        landed = frame[column]
        parts = _per_distinct_value(landed, function, rules, len(targets) + 1)
        for target, values in zip(targets, parts[:-1], strict=True):
            out[target] = values
        field_issue = parts[-1]
        if field_name == "date_of_birth":
            field_issue = _flag_future_births(out["date_of_birth"], field_issue, as_of, frame.index)
        issues.append((field_name, field_issue, landed.to_numpy(dtype=object)))
    out["field_issues"], out["raw_values"] = _issue_columns(n, issues)
    result = pd.DataFrame(out, index=frame.index, columns=list(IDENTITY_COLUMN_NAMES))
    if log.isEnabledFor(logging.DEBUG):
        counts = {f: int(pd.notna(i).sum()) for f, i, _ in issues}
        log.debug("standardised %d identity rows; field issues: %s", n, counts)
    return result


def _flag_future_births(
    births: np.ndarray, field_issue: np.ndarray, as_of: date | pd.Series | None, index: pd.Index
) -> np.ndarray:
    """Null birth dates after the as-of date (in place) and return the updated issues."""
    if isinstance(as_of, pd.Series):
        stamps = pd.to_datetime(as_of.reindex(index))
        latest = [None if pd.isna(t) else t.date() for t in stamps]  # no as-of date: no check
    else:
        latest = [as_of or today_local()] * len(births)
    future = np.array(
        [
            b is not None and limit is not None and b > limit
            for b, limit in zip(births, latest, strict=True)
        ],
        dtype=bool,
    )
    if future.any():
        births[future] = None
        field_issue = field_issue.copy()
        field_issue[future] = f"date_of_birth: {IN_THE_FUTURE}"
    return field_issue


def _issue_columns(
    n: int, issues: Sequence[tuple[str, np.ndarray, np.ndarray]]
) -> tuple[np.ndarray, np.ndarray]:
    """``field_issues`` (list per row) and ``raw_values`` (dict per row)."""
    field_issues = np.empty(n, dtype=object)
    raw_values = np.empty(n, dtype=object)
    for i in range(n):
        field_issues[i] = []
        raw_values[i] = {}
    for field_name, field_issue, landed in issues:
        for i in np.flatnonzero(pd.notna(field_issue)):
            field_issues[i].append(field_issue[i])
            raw_values[i][field_name] = as_text(landed[i])
    return field_issues, raw_values


def identity_arrow_schema() -> pa.Schema:
    """The IDENTITY_FIELDS as a pyarrow schema."""
    return pa.schema([pa.field(name, dtype) for name, dtype in IDENTITY_FIELDS])


def identity_spark_schema() -> StructType:
    """The IDENTITY_FIELDS as a Spark StructType (the ``mapInPandas`` output schema)."""
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(identity_arrow_schema())


def identity_batches(
    columns: IdentityColumns,
    keep: Sequence[str] = (),
    rules: StandardiseRules | None = None,
    as_of_column: str | None = None,
) -> Callable[[Iterator[pd.DataFrame]], Iterator[pd.DataFrame]]:
    """A ``mapInPandas`` function: ``keep`` columns as they are, then the IDENTITY_FIELDS.

    ``rules`` are resolved here (on the driver) and travel with the function to the workers.
    """
    resolved = rules or default_rules()
    kept = list(keep)

    def standardise(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            as_of = batch[as_of_column] if as_of_column else None
            identity = standardise_identity(batch, columns, resolved, as_of)
            yield pd.concat(
                [batch[kept].reset_index(drop=True), identity.reset_index(drop=True)], axis=1
            )

    return standardise


def standardise_identity_spark(
    df: DataFrame,
    columns: IdentityColumns,
    keep: Sequence[str] = (),
    rules: StandardiseRules | None = None,
    as_of_column: str | None = None,
) -> DataFrame:
    """``df``'s ``keep`` columns followed by the standardised IDENTITY_FIELDS, via ``mapInPandas``.

    Args:
        df: Spark DataFrame with the landed identity columns (strings).
        columns: which column holds each identity field.
        keep: columns passed through unchanged (keys, timestamps, lineage).
        rules: standardisation rules; ``conf/standardise.yaml`` when omitted.
        as_of_column: a date column of ``df`` bounding birth dates (e.g. ``_ingest_date``).

    Raises:
        ValueError: a kept column has the name of an identity output column.
    """
    from pyspark.sql.types import StructType

    clash = sorted(set(keep) & set(IDENTITY_COLUMN_NAMES))
    if clash:
        raise ValueError(f"kept columns clash with identity output columns: {clash}")
    needed = list(
        dict.fromkeys(
            [*keep, *columns.landed().values(), *([as_of_column] if as_of_column else [])]
        )
    )
    schema = StructType([df.schema[c] for c in keep] + identity_spark_schema().fields)
    return df.select(*needed).mapInPandas(
        identity_batches(columns, keep, rules, as_of_column), schema
    )
