"""Identity-field standardisation for the silver layer and identity resolution (ARCHITECTURE §5).

Scalar functions return the standardised value (None when empty or unusable) and, when a
landed value was present but could not be used as is, an issue string ``"<field>: <problem>"``.
:func:`standardise_identity` applies them to a pandas batch (Spark ``mapInPandas``) and returns
the IDENTITY_FIELDS of :mod:`c360.tables`. Tunables live in ``conf/standardise.yaml``.

Example:
    >>> from c360.standardise import standardise_phone, split_vietnamese_name
    >>> standardise_phone("01688123456")
    ('+84388123456', None)
    >>> split_vietnamese_name("Đặng Hữu Phước")
    ('dang', 'huu', 'phuoc')
"""

from c360.standardise.dates import (
    parse_extract_date,
    parse_local_timestamp,
    parse_local_timestamps,
)
from c360.standardise.fields import (
    REGION_BY_PROVINCE_2025,
    parse_consent,
    standardise_email,
    standardise_gender,
    standardise_national_id,
    standardise_phone,
    standardise_province,
)
from c360.standardise.identity import (
    IDENTITY_COLUMNS_BY_SOURCE,
    IdentityColumns,
    identity_arrow_schema,
    identity_batches,
    identity_spark_schema,
    standardise_identity,
    standardise_identity_spark,
)
from c360.standardise.rules import StandardiseRules, default_rules, load_rules
from c360.standardise.text import fold, fold_address, normalise_text, split_vietnamese_name

__all__ = [
    "IDENTITY_COLUMNS_BY_SOURCE",
    "REGION_BY_PROVINCE_2025",
    "IdentityColumns",
    "StandardiseRules",
    "default_rules",
    "fold",
    "fold_address",
    "identity_arrow_schema",
    "identity_batches",
    "identity_spark_schema",
    "load_rules",
    "normalise_text",
    "parse_consent",
    "parse_extract_date",
    "parse_local_timestamp",
    "parse_local_timestamps",
    "split_vietnamese_name",
    "standardise_email",
    "standardise_gender",
    "standardise_identity",
    "standardise_identity_spark",
    "standardise_national_id",
    "standardise_phone",
    "standardise_province",
]
