"""Source records: which people each source knows, how often, since when, under which key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from c360.contract import CRM_CONTACTS, ERP_CUSTOMERS, LOYALTY_MEMBERS, PERSON_SOURCES
from c360.sample.config import PopulationConfig
from c360.sample.text import stage_rng, zero_pad

SECONDS_PER_DAY = 86_400

# Key format per source: prefix and number of digits (e.g. CT00012345, KH0001234, LM00001234).
RECORD_ID_FORMAT: dict[str, tuple[str, int]] = {
    CRM_CONTACTS.source: ("CT", 8),
    ERP_CUSTOMERS.source: ("KH", 7),
    LOYALTY_MEMBERS.source: ("LM", 8),
}
# How far back day-one records were created, in years.
RECORD_AGE_YEARS: dict[str, float] = {
    CRM_CONTACTS.source: 6.0,
    ERP_CUSTOMERS.source: 8.0,
    LOYALTY_MEMBERS.source: 5.0,
}


@dataclass(frozen=True)
class Timeline:
    """Landing days and the activity window, as local (Vietnam) epoch seconds."""

    start: date
    days: int
    history_days: int

    @property
    def start_s(self) -> int:
        """Midnight at the start of day one."""
        return int(np.datetime64(self.start, "s").astype(np.int64))

    @property
    def history_start_s(self) -> int:
        """Midnight at the start of the history window."""
        return self.start_s - self.history_days * SECONDS_PER_DAY

    @property
    def end_s(self) -> int:
        """Midnight after the last landing day (exclusive)."""
        return self.start_s + self.days * SECONDS_PER_DAY

    def landing_day(self, seconds: np.ndarray) -> np.ndarray:
        """Index of the day folder an event at ``seconds`` lands in (history lands on day one)."""
        return np.maximum((np.asarray(seconds) - self.start_s) // SECONDS_PER_DAY, 0)

    def day_date(self, day_index: int) -> date:
        """Calendar date of landing day ``day_index`` (0 is the start date)."""
        return (np.datetime64(self.start, "D") + day_index).astype(date)


def build_records(
    persons: pd.DataFrame, timeline: Timeline, seed: int, cfg: PopulationConfig
) -> dict[str, pd.DataFrame]:
    """Records per person-bearing source: person_idx, record_id, landed_day, created_s.

    Each person is in the sources of one combination drawn from ``cfg.source_combinations``;
    ``cfg.duplicate_rate`` of a source's people get a second record there; ``cfg.late_record_rate``
    of records first land on a later day (created that day), the rest on day one.
    """
    rng = stage_rng(seed, "records")
    n_people = len(persons)
    combos = [set(c) for c, _ in cfg.source_combinations]
    weights = np.array([w for _, w in cfg.source_combinations], dtype=float)
    combo = rng.choice(len(combos), size=n_people, p=weights / weights.sum())

    records: dict[str, pd.DataFrame] = {}
    for source in PERSON_SOURCES:
        member_combos = [i for i, c in enumerate(combos) if source in c]
        people = np.flatnonzero(np.isin(combo, member_combos))
        n_dup = round(cfg.duplicate_rate * len(people))
        duplicated = np.sort(rng.choice(people, size=n_dup, replace=False))
        person_idx = np.concatenate([people, duplicated])
        n = len(person_idx)

        age_s = int(RECORD_AGE_YEARS[source] * 365.25 * SECONDS_PER_DAY)
        created = timeline.start_s + SECONDS_PER_DAY - 1 - rng.integers(0, age_s, n)
        landed_day = np.zeros(n, dtype=np.int64)
        if timeline.days > 1:
            n_late = round(cfg.late_record_rate * n)
            late = rng.choice(n, size=n_late, replace=False)
            landed_day[late] = rng.integers(1, timeline.days, n_late)
            created[late] = (
                timeline.start_s
                + landed_day[late] * SECONDS_PER_DAY
                + rng.integers(6 * 3600, 22 * 3600, n_late)
            )
        # Day-one records were last edited somewhere between creation and the extract.
        touched = rng.random(n) < 0.4
        updated = np.where(
            touched & (landed_day == 0),
            created
            + (rng.random(n) * (timeline.start_s + SECONDS_PER_DAY - 1 - created)).astype(np.int64),
            created,
        )

        # Keys are issued in creation order, as a source system's sequence would.
        order = np.lexsort((person_idx, created))
        prefix, width = RECORD_ID_FORMAT[source]
        record_id = np.empty(n, dtype=object)
        record_id[order] = prefix + zero_pad(np.arange(1, n + 1), width)
        records[source] = pd.DataFrame(
            {
                "person_idx": person_idx,
                "record_id": record_id,
                "landed_day": landed_day,
                "created_s": created,
                "updated_s": updated,
            }
        )
    return records
