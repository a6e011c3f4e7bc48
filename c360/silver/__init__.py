"""Silver: bronze -> typed, standardised, one latest version per source record.

Silver tables are rebuilt from all of bronze on every run, so re-running a day or ingesting
days out of order gives the same silver tables. :mod:`.events` builds transactions and loyalty
points, :mod:`.consent` consent events, :mod:`.interactions` engagement messages and service
contacts, :mod:`.persons` the person tables and ``person_records``, :mod:`.columns` holds their
Spark column helpers, and :mod:`.publish` writes, audits and publishes each table (the
expectations of ``conf/expectations.yaml`` are applied by :mod:`quality.audit`).
"""

from c360.silver.events import build_loyalty_points, build_transactions
from c360.silver.persons import (
    PersonSource,
    build_person_records,
    build_person_table,
    person_records_build,
    person_sources,
)
from c360.silver.publish import SILVER_TABLES, Published, publish, publish_person_records
from quality.staging import RowAccountingError, SilverBuild

__all__ = [
    "SILVER_TABLES",
    "PersonSource",
    "Published",
    "RowAccountingError",
    "SilverBuild",
    "build_loyalty_points",
    "build_person_records",
    "build_person_table",
    "build_transactions",
    "person_records_build",
    "person_sources",
    "publish",
    "publish_person_records",
]
