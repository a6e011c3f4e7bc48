"""``generate_landing_zone``: people -> records -> activity -> extracts -> files and truth."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from c360.contract import (
    CONSENT_EVENTS,
    LOYALTY_POINTS,
    PERSON_SOURCES,
    SOURCES,
    TRANSACTIONS,
    day_folder,
)
from c360.sample.activity import Activity, build_activity
from c360.sample.config import DEFAULT_PROFILE, GeneratorConfig, GeneratorInputError
from c360.sample.consent import (
    CONSENT_SOURCES,
    RecordConsent,
    build_person_consent,
    record_consent,
)
from c360.sample.consent_events import consent_events_of_day
from c360.sample.extracts import master_extracts
from c360.sample.interactions import interactions_of_day
from c360.sample.noise import NoiseLog, ProfileNoiseSettings
from c360.sample.people import Population, build_population
from c360.sample.profile_columns import landed_profile_columns, person_profiles
from c360.sample.records import Timeline, build_records
from c360.sample.writer import clear_targets, mark_complete, write_csv, write_extract, write_json

logger = logging.getLogger(__name__)

# Files written to the truth directory (never inside the landing zone).
PERSON_TRUTH_FILE = "person_truth.csv"  # source_system, source_record_id, person_id
PERSONS_FILE = "persons.csv"  # the clean attributes of every person
HARD_NEGATIVES_FILE = "hard_negatives.csv"  # person_id_a, person_id_b, relation
NOISE_LOG_FILE = "noise_log.csv"  # source_system, source_record_id, field, noise_kind, day
MANIFEST_FILE = "manifest.json"  # the configuration and row counts of the run
# source_system, source_record_id, consent_email, consent_sms, consent_data_use (true/false/"")
CONSENT_FILE = "consent.csv"
TRUTH_FILES = (
    PERSON_TRUTH_FILE, PERSONS_FILE, HARD_NEGATIVES_FILE, NOISE_LOG_FILE, CONSENT_FILE,
    MANIFEST_FILE,
)  # fmt: skip


@dataclass
class GenerationSummary:
    """What a generation run wrote, and how long it took."""

    people: int
    days: int
    files: list[Path]
    rows: dict[str, int]  # entity name (e.g. crm_contacts) -> rows over all days
    truth_rows: int
    noise_applications: dict[str, int]
    stage_seconds: dict[str, float] = field(default_factory=dict)
    elapsed_seconds: float = 0.0

    @property
    def total_rows(self) -> int:
        """Rows over all landed files."""
        return sum(self.rows.values())


class _StageClock:
    """Times the generation stages and reports one line per stage."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self.say = say
        self.started = self.last = time.perf_counter()
        self.seconds: dict[str, float] = {}

    def done(self, name: str, detail: str) -> None:
        """Close stage ``name`` (it ran since the previous one) and report ``detail``."""
        now = time.perf_counter()
        self.seconds[name] = round(now - self.last, 3)
        self.say(f"[generate] {name:<12} {detail} ({now - self.last:.1f} s)")
        self.last = now

    def elapsed(self) -> float:
        """Seconds since the clock started."""
        return round(time.perf_counter() - self.started, 3)


def generate_landing_zone(
    config: GeneratorConfig,
    out: Path,
    truth: Path,
    overwrite: bool = False,
    progress: Callable[[str], None] | None = None,
) -> GenerationSummary:
    """Write a landing zone of sample extracts under ``out`` and its truth under ``truth``.

    Args:
        config: what to generate; the same config always gives the same bytes.
        out: the landing-zone root (``<out>/<source>/<YYYY-MM-DD>/...``).
        truth: the truth directory; must not be inside ``out``.
        overwrite: replace day folders and truth files this run writes if they already exist.
        progress: called with one line per stage (default: the module logger).

    Returns:
        Files written, rows per entity, truth rows and timings.

    Example:
        >>> from datetime import date
        >>> from c360.sample import GeneratorConfig, load_noise_config
        >>> cfg = GeneratorConfig(people=1000, days=3, start=date(2025, 10, 1), seed=7,
        ...                       noise=load_noise_config(), history_days=90)
        >>> generate_landing_zone(cfg, Path("raw"), Path("truth")).total_rows  # doctest: +SKIP
        6930
    """
    out, truth = Path(out).resolve(), Path(truth).resolve()
    if truth == out or out in truth.parents:
        raise GeneratorInputError(f"truth directory {truth} must be outside the landing zone {out}")
    timeline = Timeline(config.start, config.days, config.history_days)
    day_dates = [timeline.day_date(d) for d in range(config.days)]
    clear_targets(
        [day_folder(out, source, day) for source in SOURCES for day in day_dates],
        [truth / name for name in TRUTH_FILES],
        overwrite,
    )
    clock = _StageClock(progress or logger.info)
    population, records, activity = _people_and_activity(config, timeline, clock)
    persons = population.persons
    extracts, consent, noise_log = _noisy_extracts(config, persons, records, activity, timeline)
    clock.done("noise", f"{len(noise_log):,} noise applications")
    files, rows = _write_landing_days(config, out, day_dates, extracts, activity, records, persons)
    clock.done("write", f"{len(files):,} files, {sum(rows.values()):,} rows under {out}")
    truth_rows, noise_counts = _write_truth(
        config, truth, population, records, consent, noise_log, rows
    )
    clock.done("truth", f"{truth_rows:,} truth rows under {truth}")
    return GenerationSummary(
        people=len(persons),
        days=config.days,
        files=files,
        rows=rows,
        truth_rows=truth_rows,
        noise_applications={k: int(v) for k, v in noise_counts.items()},
        stage_seconds=clock.seconds,
        elapsed_seconds=clock.elapsed(),
    )


def _people_and_activity(
    config: GeneratorConfig, timeline: Timeline, clock: _StageClock
) -> tuple[Population, dict[str, pd.DataFrame], Activity]:
    """The clean stages: the population, each source's records and the activity."""
    population = build_population(config.people, config.start, config.seed, config.population)
    persons = population.persons
    clock.done(
        "people",
        f"{len(persons):,} people, {len(population.hard_negatives):,} hard-negative pairs",
    )
    records = build_records(persons, timeline, config.seed, config.population)
    clock.done("records", ", ".join(f"{s} {len(r):,}" for s, r in records.items()))
    activity = build_activity(persons, records, timeline, config.seed, config.population)
    clock.done(
        "activity",
        f"{len(activity.transactions):,} transactions, {len(activity.points):,} point events",
    )
    return population, records, activity


def _noisy_extracts(
    config: GeneratorConfig,
    persons: pd.DataFrame,
    records: dict[str, pd.DataFrame],
    activity: Activity,
    timeline: Timeline,
) -> tuple[dict[str, dict[int, pd.DataFrame]], dict[str, RecordConsent], pd.DataFrame]:
    """Each source's master extracts per day, its records' consent, and the noise log."""
    log = NoiseLog()
    profile = ProfileNoiseSettings(
        rates=config.profile_noise,
        absent_roles=config.absent_fields,
        name_style=config.population.name_style,
        seed=config.seed,
    )
    person_consent = build_person_consent(len(persons), timeline, config.seed, config.population)
    consent = {
        source: record_consent(
            source, person_consent, records[source], timeline, config.noise, config.population,
            config.seed, log,
        )
        for source in CONSENT_SOURCES
    }  # fmt: skip
    profiles = person_profiles(persons, config.start.year, config.seed)
    extracts = {
        source: master_extracts(
            source, persons, recs, activity.spend_12m_vnd, timeline, config.noise,
            config.population, config.seed, log,
            extra=_extra_columns(
                consent[source].landed if source in consent else None,
                landed_profile_columns(
                    source, recs["person_idx"].to_numpy(), profiles, config.start.year,
                    config.seed,
                ),
            ),
            profile=profile,
        )
        for source, recs in records.items()
    }  # fmt: skip
    return extracts, consent, log.to_frame()


def _extra_columns(consent: pd.DataFrame | None, profile: pd.DataFrame) -> pd.DataFrame:
    """The optional columns after the contract's: consent (if the source has it), profile."""
    parts = [] if consent is None else [consent.reset_index(drop=True)]
    return pd.concat([*parts, profile.reset_index(drop=True)], axis=1)


def _write_landing_days(
    config: GeneratorConfig,
    out: Path,
    day_dates: list[date],
    extracts: dict[str, dict[int, pd.DataFrame]],
    activity: Activity,
    records: dict[str, pd.DataFrame],
    persons: pd.DataFrame,
) -> tuple[list[Path], dict[str, int]]:
    """Every source's files of every day, each day folder closed by _SUCCESS; files and rows."""
    files: list[Path] = []
    rows: dict[str, int] = {}
    for day_index, day in enumerate(day_dates):
        for source, by_day in extracts.items():
            entity = PERSON_SOURCES[source]
            frame = by_day[day_index]
            files.append(write_extract(out, entity, day, frame, entity.file_format))
            rows[entity.name] = rows.get(entity.name, 0) + len(frame)
        for entity, frame, file_format in (
            (TRANSACTIONS, activity.transactions, config.transactions_format),
            (LOYALTY_POINTS, activity.points, "csv"),
        ):
            todays = frame.loc[frame["landed_day"] == day_index, list(entity.required_columns)]
            files.append(write_extract(out, entity, day, todays, file_format))
            rows[entity.name] = rows.get(entity.name, 0) + len(todays)
        events = consent_events_of_day(records, day_index, day, config.seed)
        files.append(write_extract(out, CONSENT_EVENTS, day, events, "csv"))
        rows[CONSENT_EVENTS.name] = rows.get(CONSENT_EVENTS.name, 0) + len(events)
        for entity, frame in interactions_of_day(persons, records, day_index, day, config.seed):
            files.append(write_extract(out, entity, day, frame, "csv"))
            rows[entity.name] = rows.get(entity.name, 0) + len(frame)
        for source in SOURCES:
            mark_complete(out, source, day)
    return files, rows


def _write_truth(
    config: GeneratorConfig,
    truth: Path,
    population: Population,
    records: dict[str, pd.DataFrame],
    consent: dict[str, RecordConsent],
    noise_log: pd.DataFrame,
    rows: dict[str, int],
) -> tuple[int, dict[str, int]]:
    """The truth files and the manifest; the number of truth rows and noise counts by kind."""
    persons = population.persons
    person_ids = persons["person_id"].to_numpy(dtype=object)
    person_truth = pd.concat(
        [
            pd.DataFrame(
                {
                    "source_system": source,
                    "source_record_id": recs["record_id"],
                    "person_id": person_ids[recs["person_idx"].to_numpy()],
                }
            )
            for source, recs in records.items()
        ],
        ignore_index=True,
    ).sort_values(["source_system", "source_record_id"], ignore_index=True)
    write_csv(person_truth, truth / PERSON_TRUTH_FILE)
    write_csv(persons.drop(columns="province_idx"), truth / PERSONS_FILE)
    write_csv(population.hard_negatives, truth / HARD_NEGATIVES_FILE)
    write_csv(noise_log, truth / NOISE_LOG_FILE)
    consent_truth = pd.concat([c.truth for c in consent.values()], ignore_index=True)
    consent_truth = consent_truth.sort_values(
        ["source_system", "source_record_id"], ignore_index=True
    )
    write_csv(consent_truth, truth / CONSENT_FILE)
    noise_counts = noise_log["noise_kind"].value_counts().sort_index().to_dict()
    write_json(
        {
            "config": _manifest_config(config),
            "rows": rows,
            "truth_rows": len(person_truth),
            "noise_applications": noise_counts,
        },
        truth / MANIFEST_FILE,
    )
    return len(person_truth), noise_counts


def _manifest_config(config: GeneratorConfig) -> dict[str, object]:
    """The run's configuration for manifest.json; profile settings appear only when used, so a
    default run's manifest is what it was before profiles existed."""
    out: dict[str, object] = {
        "people": config.people,
        "days": config.days,
        "start": config.start.isoformat(),
        "seed": config.seed,
        "history_days": config.history_days,
        "transactions_format": config.transactions_format,
        "noise": config.noise.as_dict()
        | {kind: rate for kind, rate in config.profile_noise.as_dict().items() if rate},
        "population": config.population.manifest_dict(),
    }
    if config.profile != DEFAULT_PROFILE or config.absent_fields:
        out["profile"] = config.profile
        out["absent_fields"] = list(config.absent_fields)
    return out
