"""``gold/segment_members``: every configured segment's members as of a snapshot day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pyarrow as pa
import pyarrow.compute as pc

from c360.lakehouse import Lakehouse
from c360.segments.engine import evaluate, field_catalog
from c360.segments.model import SegmentsConfig, validate_config
from c360.tables import GOLD_SEGMENT_MEMBERS, GOLD_SEGMENT_MEMBERS_SCHEMA


@dataclass(frozen=True)
class SegmentFigures:
    """Per-segment metadata of one membership snapshot."""

    segment: str
    channel: str | None
    members: int
    excluded_for_consent: int
    entered: int
    left: int


def _previous_members(lake: Lakehouse, as_of: date) -> pa.Table | None:
    """Members of the latest snapshot before ``as_of`` (None: no earlier snapshot)."""
    if not lake.exists(GOLD_SEGMENT_MEMBERS):
        return None
    data = lake.arrow_dataset(GOLD_SEGMENT_MEMBERS)
    days = data.to_table(columns=["as_of_date"])["as_of_date"]
    earlier = pc.filter(days, pc.less(days, pa.scalar(as_of, pa.date32())))
    if len(earlier) == 0:
        return None
    previous = pc.max(earlier)
    import pyarrow.dataset as pads

    return data.to_table(
        columns=["segment", "customer_id"], filter=pads.field("as_of_date") == previous
    )


def build_segment_members(
    lake: Lakehouse, config: SegmentsConfig, as_of: date
) -> tuple[pa.Table, list[SegmentFigures]]:
    """Evaluate every segment as of ``as_of``; rows sorted by segment and customer_id.

    ``entered`` is true for a member absent from the segment's previous snapshot (every member
    of a segment's first snapshot enters).
    """
    catalog = field_catalog(lake, config)
    validate_config(config, catalog)
    previous = _previous_members(lake, as_of)
    parts, figures = [], []
    for segment in sorted(config.segments.values(), key=lambda s: s.name):
        result = evaluate(lake, config, catalog, segment.filter, segment.channel, as_of,
                          segment=segment.name)  # fmt: skip
        ids = result.members["customer_id"]
        before = (
            previous.filter(pc.equal(previous["segment"], segment.name))["customer_id"]
            if previous is not None
            else pa.chunked_array([], pa.string())
        )
        entered = pc.invert(pc.is_in(ids, value_set=before.combine_chunks()))
        left = pc.sum(pc.invert(pc.is_in(before, value_set=ids.combine_chunks()))).as_py() or 0
        parts.append(
            pa.table(
                {
                    "segment": pa.array([segment.name] * len(ids), pa.string()),
                    "customer_id": ids,
                    "as_of_date": pa.array([as_of] * len(ids), pa.date32()),
                    "entered": entered,
                },
                schema=GOLD_SEGMENT_MEMBERS_SCHEMA,
            )
        )
        figures.append(
            SegmentFigures(
                segment.name, segment.channel, len(ids), result.excluded_for_consent,
                pc.sum(entered).as_py() or 0, left,
            )
        )  # fmt: skip
    table = pa.concat_tables(parts) if parts else GOLD_SEGMENT_MEMBERS_SCHEMA.empty_table()
    return table, figures


def write_segment_members(
    lake: Lakehouse, config: SegmentsConfig, as_of: date
) -> list[SegmentFigures]:
    """Build and replace the ``as_of`` partition of ``gold/segment_members`` (idempotent)."""
    table, figures = build_segment_members(lake, config, as_of)
    lake.replace_where(table, GOLD_SEGMENT_MEMBERS, {"as_of_date": [as_of]})
    return figures
