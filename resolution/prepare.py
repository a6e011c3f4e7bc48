"""Records ready for linking: the identity columns of silver/person_records, blanks as NULL.

Only the contract's columns are read; any of them may be empty. Three columns are derived from
them for comparison and blocking: ``address_key`` (the folded address without administrative
words and without a trailing province name, see ``prepare`` in ``conf/identity.yaml``),
``dob_year``, ``name_sorted`` (the folded
name's tokens in alphabetical order, so "anh nguyen van" = "nguyen van anh") and
``name_initials`` (their first letters, a cheap pre-check of the ``tokens_cover`` level).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc

from c360.standardise.text import fold
from resolution.config import PrepareConfig

log = logging.getLogger(__name__)

# Columns of silver/person_records that matching reads (besides the derived ones).
LINKING_COLUMNS = (
    "record_key",
    "source_system",
    "source_record_id",
    "full_name_folded",
    "family_name",
    "middle_name",
    "given_name",
    "gender",
    "date_of_birth",
    "phone_e164",
    "email",
    "national_id",
    "national_id_type",
    "address_folded",
    "province",
)
DERIVED_COLUMNS = ("address_key", "dob_year", "name_sorted", "name_initials")


def _blank_to_null(column: pa.ChunkedArray) -> pa.ChunkedArray:
    trimmed = pc.utf8_trim_whitespace(column)
    return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)


def address_key(address_folded: pa.ChunkedArray, config: PrepareConfig) -> pa.ChunkedArray:
    """The folded address without punctuation and administrative words, or NULL when empty.

    Example:
        "p. ben thanh, q. 1" and "phuong ben thanh, quan 1" both give "ben thanh 1".
    """
    text = pc.utf8_lower(address_folded)
    text = pc.replace_substring_regex(text, r"[^\p{L}\p{N}]+", " ")
    text = pc.replace_substring_regex(text, r"\s+", " ")
    text = pc.utf8_trim_whitespace(text)
    if config.address_drop_phrases:
        phrases = "|".join(re.escape(p) for p in config.address_drop_phrases)
        text = pc.replace_substring_regex(text, rf"(^| )(?:{phrases})( |$)", " ")
    if config.address_drop_words:
        words = "|".join(re.escape(w) for w in config.address_drop_words)
        # Twice: adjacent dropped words share the space between them.
        for _ in range(2):
            text = pc.replace_substring_regex(text, rf"(^| )(?:{words})( |$)", " ")
    text = pc.utf8_trim_whitespace(pc.replace_substring_regex(text, r"\s+", " "))
    return pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)


def without_province(keys: pa.ChunkedArray, provinces: pa.ChunkedArray) -> pa.ChunkedArray:
    """``keys`` without a trailing folded ``provinces`` name: one source writes the province
    into the address, another keeps it in its own field.

    Example:
        "123 nguyen hue ben nghe ho chi minh" with province "Hồ Chí Minh" gives
        "123 nguyen hue ben nghe"; an address that is only the province is kept.
    """
    folded: dict[str, str | None] = {}
    stripped = []
    for key, province in zip(keys.to_pylist(), provinces.to_pylist(), strict=True):
        if key is not None and province is not None:
            if province not in folded:
                folded[province] = fold(province)
            suffix = folded[province]
            if suffix and key.endswith(" " + suffix):
                key = key[: -len(suffix) - 1]
        stripped.append(key)
    return pa.chunked_array([pa.array(stripped, pa.string())])


def _per_distinct(names: pa.ChunkedArray, function: Callable[[str], str]) -> pa.ChunkedArray:
    encoded = pc.dictionary_encode(names).combine_chunks()
    values = [None if n is None else function(n) for n in encoded.dictionary.to_pylist()]
    return pa.chunked_array([pc.take(pa.array(values, pa.string()), encoded.indices)])


def sorted_tokens(names: pa.ChunkedArray) -> pa.ChunkedArray:
    """The distinct space-separated tokens of each name, sorted: order no longer matters.

    Example:
        "anh nguyen van" and "nguyen van anh" both give "anh nguyen van".
    """
    return _per_distinct(names, lambda name: " ".join(sorted(set(name.split()))))


def token_initials(names: pa.ChunkedArray) -> pa.ChunkedArray:
    """The distinct first letters of each name's tokens, sorted: "nguyen van anh" -> "anv"."""
    return _per_distinct(names, lambda name: "".join(sorted({t[0] for t in name.split()})))


def _drop_overused(column: pa.ChunkedArray, max_records: int) -> tuple[pa.ChunkedArray, int]:
    """NULL where the value is held by more than ``max_records`` records; (column, values)."""
    counts = pc.value_counts(column.drop_null())
    if len(counts) == 0:
        return column, 0
    overused = counts.field("values").filter(pc.greater(counts.field("counts"), max_records))
    if len(overused) == 0:
        return column, 0
    mask = pc.is_in(column, value_set=overused)
    return pc.if_else(mask, pa.scalar(None, column.type), column), len(overused)


def prepare_records(records: pa.Table, config: PrepareConfig) -> pa.Table:
    """The linking view of ``records`` (a silver/person_records table).

    Strings are trimmed and empty strings become NULL (DuckDB's jaccard fails on ""), a missing
    column becomes an all-NULL column, identifiers shared by too many records (placeholders,
    office lines) are treated as empty, and ``address_key`` / ``dob_year`` are derived.

    Raises:
        ValueError: ``record_key`` is missing, null or duplicated.
    """
    if "record_key" not in records.column_names:
        raise ValueError("person records need a record_key column (<source_system>:<id>)")
    columns: dict[str, pa.ChunkedArray] = {}
    for name in LINKING_COLUMNS:
        if name in records.column_names:
            column = records.column(name)
        else:
            dtype = pa.date32() if name == "date_of_birth" else pa.string()
            column = pa.chunked_array([pa.nulls(records.num_rows, dtype)])
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            column = _blank_to_null(column.cast(pa.string()))
        columns[name] = column
    keys = columns["record_key"]
    if keys.null_count:
        raise ValueError(f"{keys.null_count} person records have no record_key")
    if pc.count_distinct(keys).as_py() != len(keys):
        raise ValueError("record_key is not unique in the person records")
    if config.max_records_per_identifier:
        for name in config.identifier_columns:
            columns[name], overused = _drop_overused(
                columns[name], config.max_records_per_identifier
            )
            if overused:
                log.warning(
                    "%s: %d values held by more than %d records ignored for matching",
                    name,
                    overused,
                    config.max_records_per_identifier,
                )
    columns["address_key"] = without_province(
        address_key(columns["address_folded"], config), columns["province"]
    )
    columns["dob_year"] = pc.year(columns["date_of_birth"]).cast(pa.int32())
    columns["name_sorted"] = sorted_tokens(columns["full_name_folded"])
    columns["name_initials"] = token_initials(columns["full_name_folded"])
    return pa.table(columns)
