"""The true population: people in households, with clean identity attributes and hard negatives.

Everything is drawn with numpy over whole arrays. A person's clean attributes are the truth the
source records are later derived from (and distorted by ``noise``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from c360.reference_data import (
    CARRIER_MARKET_SHARE,
    FAMILY_NAMES,
    GIVEN_NAMES,
    MIDDLE_NAMES,
    MOBILE_PREFIXES_BY_CARRIER,
    PROVINCES_PRE_2025,
    TRADITIONAL_MIDDLE_NAME,
)
from c360.sample.config import PopulationConfig
from c360.sample.geography import build_district_table, random_addresses
from c360.sample.names import (
    COMMON_FULL_NAMES,
    EMAIL_DOMAINS,
    WESTERN_FAMILY_NAMES,
    WESTERN_GIVEN_NAMES,
    WESTERN_MIDDLE_NAME_RATE,
)
from c360.sample.text import digits, fold_array, stage_rng, unique_with_digits, zero_pad
from c360.sample.world import foreign_mobile_numbers, passport_numbers

# Landline area codes used for households' fixed lines (Hồ Chí Minh, Hà Nội), 8 digits follow.
LANDLINE_PREFIXES = np.array(["028", "024"], dtype=object)

GENDERS = np.array(["M", "F"], dtype=object)


@dataclass(frozen=True)
class Population:
    """The people (one row each) and the pairs of distinct people that look alike."""

    persons: pd.DataFrame
    hard_negatives: pd.DataFrame  # person_id_a, person_id_b, relation


def _weighted(rng: np.random.Generator, table: tuple[tuple[str, float], ...], n: int) -> np.ndarray:
    values = np.array([v for v, _ in table], dtype=object)
    weights = np.array([w for _, w in table], dtype=float)
    return values[rng.choice(len(values), size=n, p=weights / weights.sum())]


def _by_gender(
    rng: np.random.Generator, tables: dict[str, tuple[tuple[str, float], ...]], gender: np.ndarray
) -> np.ndarray:
    out = np.empty(len(gender), dtype=object)
    for g in ("M", "F"):
        mask = gender == g
        out[mask] = _weighted(rng, tables[g], int(mask.sum()))
    return out


@dataclass(frozen=True)
class _Households:
    """Who lives where: per person its household, position in it (0 head, 1 spouse, 2+ children),
    household size and head; per household its first person and size."""

    household: np.ndarray
    position: np.ndarray
    size: np.ndarray
    head: np.ndarray
    first: np.ndarray  # per household
    sizes: np.ndarray  # per household

    @property
    def n_households(self) -> int:
        return len(self.sizes)


@dataclass
class _Names:
    """Family, middle and given name per person, and the given-name table they came from."""

    family: np.ndarray
    middle: np.ndarray
    given: np.ndarray
    given_table: dict[str, tuple[tuple[str, float], ...]]


def build_population(n_people: int, start: date, seed: int, cfg: PopulationConfig) -> Population:
    """Draw ``n_people`` people living in households.

    Args:
        n_people: how many people.
        start: the first landing day; ages are measured at this date.
        seed: the generator seed.
        cfg: population shape.

    Returns:
        The people (``persons``: person_id, household_id, role, names, gender, date_of_birth,
        phone, email, cccd, cmnd, tax_code, province, address, ...) and the hard negatives.
    """
    rng = stage_rng(seed, "people")
    hh = _draw_households(rng, n_people, cfg)
    gender = _draw_genders(rng, hh)
    dob = _draw_birth_dates(rng, hh, start)
    hh_province, hh_address = _draw_homes(rng, hh)
    names = _draw_names(rng, seed, cfg, hh, gender, dob)
    twin_a = _add_twins(rng, cfg, hh, gender, dob, names)
    namesake, original = _add_namesakes(rng, cfg, hh, gender, dob, names)
    birth_year = _birth_years(dob)

    # Profile-only hard negatives (their own generator, so the default population is unchanged).
    hard_rng = stage_rng(seed, "people:hard-negatives")
    son = _sons_named_after_father(
        hard_rng, gender, hh.household, hh.position, hh.head, cfg.father_son_rate
    )
    names.middle[son], names.given[son] = names.middle[hh.head[son]], names.given[hh.head[son]]
    common = _common_name_holders(
        hard_rng, hh.size == 1, np.concatenate([namesake, original]), cfg.common_name_rate
    )
    _give_common_names(hard_rng, cfg, common, gender, names)

    phone = _draw_phones(rng, hard_rng, cfg, hh, son)
    email = _emails(rng, names.family, names.middle, names.given, birth_year, cfg.email_rate)
    province_idx = hh_province[hh.household]
    cccd, cmnd, tax_code = _draw_national_ids(rng, province_idx, birth_year, gender)
    passport = None
    if cfg.name_style == "western":
        world_rng = stage_rng(seed, "people:world")
        phone, passport = _western_documents(world_rng, cfg, hh.household, phone)
        cccd, cmnd = np.full(n_people, "", object), np.full(n_people, "", object)

    persons = _persons_frame(
        hh, names, gender, dob, phone, email, (cccd, cmnd, tax_code), province_idx
    )
    persons["address"] = hh_address[hh.household]
    if passport is not None:
        persons.insert(persons.columns.get_loc("cmnd") + 1, "passport", passport)
    persons["province_idx"] = province_idx
    hard_negatives = _hard_negatives(
        persons, hh.first, hh.sizes, twin_a, namesake, original, hh.head[son], son, common
    )
    return Population(persons=persons, hard_negatives=hard_negatives)


def _birth_years(dob: np.ndarray) -> np.ndarray:
    return dob.astype("datetime64[Y]").astype(int) + 1970


def _draw_households(rng: np.random.Generator, n_people: int, cfg: PopulationConfig) -> _Households:
    """Household sizes drawn until they cover ``n_people``; the last one is cut to fit."""
    sizes_table = np.array([s for s, _ in cfg.household_sizes])
    size_weights = np.array([w for _, w in cfg.household_sizes], dtype=float)
    draws = rng.choice(sizes_table, size=n_people, p=size_weights / size_weights.sum())
    cum = np.cumsum(draws)
    n_households = int(np.searchsorted(cum, n_people) + 1)
    hh_size = draws[:n_households].copy()
    hh_size[-1] -= cum[n_households - 1] - n_people
    hh_first = np.concatenate([[0], np.cumsum(hh_size)[:-1]])
    household = np.repeat(np.arange(n_households), hh_size)
    return _Households(
        household=household,
        position=np.arange(n_people) - hh_first[household],
        size=hh_size[household],
        head=hh_first[household],
        first=hh_first,
        sizes=hh_size,
    )


def _draw_genders(rng: np.random.Generator, hh: _Households) -> np.ndarray:
    """Head mostly male, spouse the other gender, children either."""
    head_male = rng.random(hh.n_households) < 0.65
    gender = np.where(rng.random(len(hh.household)) < 0.5, "M", "F").astype(object)
    heads, spouses = hh.position == 0, hh.position == 1
    gender[heads] = np.where(head_male, "M", "F")[hh.household[heads]]
    gender[spouses] = np.where(head_male, "F", "M")[hh.household[spouses]]
    return gender


def _draw_birth_dates(rng: np.random.Generator, hh: _Households, start: date) -> np.ndarray:
    """Birth dates from ages at the start: spouses near the head, children 20-32 years younger."""
    household, position = hh.household, hh.position
    age = 18 + rng.beta(2.0, 3.0, len(household)) * 62
    head_age = np.where(hh.sizes >= 3, rng.uniform(45, 75, hh.n_households), age[hh.first])
    age[position == 0] = head_age[household[position == 0]]
    spouse = position == 1
    age[spouse] = np.clip(head_age[household[spouse]] + rng.normal(-2, 3, spouse.sum()), 18, 85)
    child = position >= 2
    age[child] = np.clip(head_age[household[child]] - rng.uniform(20, 32, child.sum()), 16, None)
    start_day = np.datetime64(start, "D")
    return start_day - np.round(age * 365.25).astype("timedelta64[D]")


def _draw_homes(rng: np.random.Generator, hh: _Households) -> tuple[np.ndarray, np.ndarray]:
    """Province index and address, one per household."""
    weights = np.array([p.population_millions for p in PROVINCES_PRE_2025])
    hh_province = rng.choice(len(weights), size=hh.n_households, p=weights / weights.sum())
    return hh_province, random_addresses(rng, hh_province, build_district_table())


def _draw_names(
    rng: np.random.Generator,
    seed: int,
    cfg: PopulationConfig,
    hh: _Households,
    gender: np.ndarray,
    dob: np.ndarray,
) -> _Names:
    """Family name of the father (children), own family name (spouse), middle name by cohort."""
    n_people = len(gender)
    child = hh.position >= 2
    family = _weighted(rng, FAMILY_NAMES, n_people)
    head, size = hh.head, hh.size
    father = np.where(gender[head] == "M", head, np.minimum(head + 1, head + size - 1))
    family[child] = family[father[child]]
    birth_year = _birth_years(dob)
    p_traditional = np.select(
        [birth_year < 1975, birth_year < 1990, birth_year < 2000], [0.65, 0.45, 0.25], 0.12
    )
    middle = _by_gender(rng, MIDDLE_NAMES, gender)
    traditional = rng.random(n_people) < p_traditional
    middle[traditional] = np.where(
        gender[traditional] == "M", TRADITIONAL_MIDDLE_NAME["M"], TRADITIONAL_MIDDLE_NAME["F"]
    )
    given = _by_gender(rng, GIVEN_NAMES, gender)
    if cfg.name_style != "western":
        return _Names(family, middle, given, GIVEN_NAMES)
    # Own generator: the draws above stay as they were.
    family, middle, given = _western_names(stage_rng(seed, "people:western"), gender)
    family[child] = family[father[child]]
    return _Names(family, middle, given, WESTERN_GIVEN_NAMES)


def _add_twins(
    rng: np.random.Generator,
    cfg: PopulationConfig,
    hh: _Households,
    gender: np.ndarray,
    dob: np.ndarray,
    names: _Names,
) -> np.ndarray:
    """Twins (in place): the first two children share a birth date and middle name, not a given
    name. Returns the first twin of each pair."""
    twin_household = (hh.sizes >= 4) & (rng.random(hh.n_households) < cfg.twin_rate)
    twin_a = hh.first[twin_household] + 2
    twin_b = twin_a + 1
    dob[twin_b] = dob[twin_a]
    names.middle[twin_b] = names.middle[twin_a]
    given = names.given
    gender_b = gender[twin_b]
    for _ in range(10):  # redraw a twin's given name while it equals the other twin's
        same = given[twin_b] == given[twin_a]
        if not same.any():
            break
        given[twin_b[same]] = _by_gender(rng, names.given_table, gender_b[same])
    return twin_a


def _add_namesakes(
    rng: np.random.Generator,
    cfg: PopulationConfig,
    hh: _Households,
    gender: np.ndarray,
    dob: np.ndarray,
    names: _Names,
) -> tuple[np.ndarray, np.ndarray]:
    """Namesakes (in place): people living alone who share the full name and birth year of
    someone else. Returns the namesakes and the people they copy."""
    n_people = len(gender)
    birth_year = _birth_years(dob)
    household = hh.household
    alone = np.flatnonzero(hh.size == 1)
    n_namesakes = min(round(cfg.namesake_rate * n_people), len(alone))
    namesake = np.sort(rng.choice(alone, size=n_namesakes, replace=False))
    original = rng.integers(0, n_people, n_namesakes)
    keep = (household[original] != household[namesake]) & ~np.isin(original, namesake)
    namesake, original = namesake[keep], original[keep]
    for column in (names.family, names.middle, names.given, gender):
        column[namesake] = column[original]
    month_day = dob[namesake] - dob[namesake].astype("datetime64[Y]")
    month_day = np.minimum(month_day, np.timedelta64(364, "D"))  # 29 Feb -> 30 Dec at worst
    dob[namesake] = (birth_year[original] - 1970).astype("datetime64[Y]").astype(
        "datetime64[D]"
    ) + month_day
    return namesake, original


def _give_common_names(
    rng: np.random.Generator,
    cfg: PopulationConfig,
    common: np.ndarray,
    gender: np.ndarray,
    names: _Names,
) -> None:
    """Give each of ``common`` (in place) one of the most common full names of their gender."""
    table = COMMON_FULL_NAMES[cfg.name_style]
    for g in ("M", "F"):
        holders = common[gender[common] == g]
        picked = rng.integers(0, len(table[g]), len(holders))
        for column, part in zip((names.family, names.middle, names.given), range(3), strict=True):
            column[holders] = np.array([n[part] for n in table[g]], dtype=object)[picked]


def _draw_phones(
    rng: np.random.Generator,
    hard_rng: np.random.Generator,
    cfg: PopulationConfig,
    hh: _Households,
    son: np.ndarray,
) -> np.ndarray:
    """Own number by carrier share; some household members give the head's number; profiles give
    some fathers and sons a shared landline."""
    n_people = len(hh.household)
    carriers = list(CARRIER_MARKET_SHARE)
    share = np.array([CARRIER_MARKET_SHARE[c] for c in carriers])
    carrier = rng.choice(len(carriers), size=n_people, p=share / share.sum())
    prefix = np.empty(n_people, dtype=object)
    for i, name in enumerate(carriers):
        mask = carrier == i
        options = np.array(MOBILE_PREFIXES_BY_CARRIER[name], dtype=object)
        prefix[mask] = options[rng.integers(0, len(options), mask.sum())]
    own_phone = unique_with_digits(rng, prefix, 7)
    shares_phone = (hh.position > 0) & (rng.random(n_people) < cfg.shared_phone_rate)
    phone = np.where(shares_phone, own_phone[hh.head], own_phone)
    with_landline = son[hard_rng.random(len(son)) < cfg.landline_rate]
    if len(with_landline):
        area = LANDLINE_PREFIXES[hard_rng.integers(0, len(LANDLINE_PREFIXES), len(with_landline))]
        landline = unique_with_digits(hard_rng, area, 8)
        phone[with_landline] = phone[hh.head[with_landline]] = landline
    return phone


def _draw_national_ids(
    rng: np.random.Generator, province_idx: np.ndarray, birth_year: np.ndarray, gender: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CCCD for everyone; the older 9-digit CMND for most people born before 2004; tax codes."""
    n_people = len(gender)
    registered = np.where(
        rng.random(n_people) < 0.85,
        province_idx,
        rng.integers(0, len(PROVINCES_PRE_2025), n_people),
    )
    codes = np.array([p.cccd_code for p in PROVINCES_PRE_2025], dtype=object)[registered]
    century_digit = np.where(birth_year >= 2000, 2, 0) + (gender == "F")
    cccd_prefix = codes + century_digit.astype(str) + zero_pad(birth_year % 100, 2)
    cccd = unique_with_digits(rng, cccd_prefix, 6)
    has_cmnd = (birth_year < 2004) & (rng.random(n_people) < 0.8)
    cmnd_all = unique_with_digits(rng, rng.integers(0, 4, n_people).astype(str).astype(object), 8)
    cmnd = np.where(has_cmnd, cmnd_all, "")
    has_tax_code = rng.random(n_people) < 0.35
    tax_code = np.where(
        has_tax_code, unique_with_digits(rng, np.full(n_people, "8", object), 9), ""
    )
    return cccd, cmnd, tax_code


def _persons_frame(
    hh: _Households,
    names: _Names,
    gender: np.ndarray,
    dob: np.ndarray,
    phone: np.ndarray,
    email: np.ndarray,
    national_ids: tuple[np.ndarray, np.ndarray, np.ndarray],
    province_idx: np.ndarray,
) -> pd.DataFrame:
    """One row per person (without the address, added by the caller)."""
    cccd, cmnd, tax_code = national_ids
    family, middle, given = names.family, names.middle, names.given
    position = hh.position
    return pd.DataFrame(
        {
            "person_id": _ids("P", np.arange(1, len(gender) + 1), 7),
            "household_id": _ids("H", hh.household + 1, 7),
            "household_role": np.select(
                [position == 0, position == 1], ["head", "spouse"], "child"
            ),
            "family_name": family,
            "middle_name": middle,
            "given_name": given,
            "full_name": np.where(
                middle == "", family + " " + given, family + " " + middle + " " + given
            ),
            "gender": gender,
            "date_of_birth": pd.to_datetime(dob).strftime("%Y-%m-%d"),
            "phone": phone,
            "email": email,
            "cccd": cccd,
            "cmnd": cmnd,
            "tax_code": tax_code,
            "province": np.array([p.name for p in PROVINCES_PRE_2025], dtype=object)[province_idx],
            "province_2025": np.array([p.merged_into for p in PROVINCES_PRE_2025], dtype=object)[
                province_idx
            ],
        }
    )


def _western_names(
    rng: np.random.Generator, gender: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Surname, middle name (a second given name, often none) and given name per person."""
    n = len(gender)
    family = _weighted(rng, WESTERN_FAMILY_NAMES, n)
    given = _by_gender(rng, WESTERN_GIVEN_NAMES, gender)
    second = _by_gender(rng, WESTERN_GIVEN_NAMES, gender)
    has_middle = (rng.random(n) < WESTERN_MIDDLE_NAME_RATE) & (second != given)
    middle = np.where(has_middle, second, "").astype(object)
    return family, middle, given


def _western_documents(
    rng: np.random.Generator, cfg: PopulationConfig, household: np.ndarray, phone: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Phones (a number of their nationality for most) and passports of western people.

    A household shares one nationality; ``cfg.nationalities`` gives its phone region, passport
    template and share.
    """
    if not cfg.nationalities:
        raise ValueError("name_style 'western' needs population.nationalities in the profile")
    regions = np.array([r for r, _, _ in cfg.nationalities], dtype=object)
    templates = np.array([t for _, t, _ in cfg.nationalities], dtype=object)
    shares = np.array([s for _, _, s in cfg.nationalities], dtype=float)
    nationality = rng.choice(len(regions), size=household.max() + 1, p=shares / shares.sum())
    nationality = nationality[household]
    foreign = np.flatnonzero(rng.random(len(phone)) < cfg.foreign_phone_rate)
    phone = phone.copy()
    phone[foreign] = foreign_mobile_numbers(rng, regions[nationality[foreign]])
    return phone, passport_numbers(rng, templates[nationality])


def _sons_named_after_father(
    rng: np.random.Generator,
    gender: np.ndarray,
    household: np.ndarray,
    position: np.ndarray,
    head: np.ndarray,
    rate: float,
) -> np.ndarray:
    """The eldest son of ``rate`` of the households whose male head has a son (indices)."""
    if rate <= 0:
        return np.array([], dtype=np.int64)
    sons = np.flatnonzero((position >= 2) & (gender == "M") & (gender[head] == "M"))
    _, first = np.unique(household[sons], return_index=True)
    eldest = sons[first]
    k = int(np.floor(rate * len(eldest) + 0.5))
    return np.sort(rng.choice(eldest, size=k, replace=False))


def _common_name_holders(
    rng: np.random.Generator, alone: np.ndarray, taken: np.ndarray, rate: float
) -> np.ndarray:
    """``rate`` of all people, drawn among those living alone and not already namesakes."""
    candidates = np.setdiff1d(np.flatnonzero(alone), taken)
    k = min(int(np.floor(rate * len(alone) + 0.5)), len(candidates)) if rate > 0 else 0
    return np.sort(rng.choice(candidates, size=k, replace=False))


def _ids(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    return prefix + zero_pad(numbers, width)


def _emails(
    rng: np.random.Generator,
    family: np.ndarray,
    middle: np.ndarray,
    given: np.ndarray,
    birth_year: np.ndarray,
    email_rate: float,
) -> np.ndarray:
    n = len(family)
    f, m, g = (
        np.char.lower(fold_array(a).astype(str)).astype(object) for a in (family, middle, given)
    )
    yy = zero_pad(birth_year % 100, 2)
    yyyy = birth_year.astype(str).astype(object)
    patterns = np.stack(
        [f + m + g + yy, g + "." + f, g + f + yyyy, f + g + yy, g + m + f, f + "." + g + "." + yy]
    )
    local = patterns[rng.integers(0, len(patterns), n), np.arange(n)]
    domain = _weighted(rng, EMAIL_DOMAINS, n)
    email = pd.Series(local + "@" + domain)
    counter = email.groupby(email, sort=False).cumcount().to_numpy()
    clash = counter > 0
    email_arr = email.to_numpy(dtype=object)
    email_arr[clash] = (
        local[clash] + (counter[clash] + 1).astype(str).astype(object) + "@" + domain[clash]
    )
    # A counter-made address can still equal someone else's; fall back to random digits.
    while True:
        dup = pd.Series(email_arr).duplicated().to_numpy()
        if not dup.any():
            break
        email_arr[dup] = local[dup] + digits(rng, int(dup.sum()), 4) + "@" + domain[dup]
    return np.where(rng.random(n) < email_rate, email_arr, "")


def _hard_negatives(
    persons: pd.DataFrame,
    hh_first: np.ndarray,
    hh_size: np.ndarray,
    twin_a: np.ndarray,
    namesake: np.ndarray,
    original: np.ndarray,
    father: np.ndarray,
    son: np.ndarray,
    common: np.ndarray,
) -> pd.DataFrame:
    """Pairs of different people easy to mistake for one: family, twins, namesakes.

    Profiles add ``father_son`` (a son carrying his father's full name) and ``common_name``
    (unrelated people given the same common full name).
    """
    pid = persons["person_id"].to_numpy()
    family = persons["family_name"].to_numpy()
    frames = [pd.DataFrame({"person_id_a": [], "person_id_b": []}, dtype=object)]
    twins = set(zip(pid[twin_a], pid[twin_a + 1], strict=True))
    max_size = int(hh_size.max())
    for i in range(max_size):
        for j in range(i + 1, max_size):
            has_pair = hh_size > j
            a = hh_first[has_pair] + i
            b = hh_first[has_pair] + j
            same_family = family[a] == family[b]
            frames.append(
                pd.DataFrame(
                    {"person_id_a": pid[a][same_family], "person_id_b": pid[b][same_family]}
                )
            )
    family_pairs = pd.concat(frames, ignore_index=True)
    is_twin = [
        pair in twins
        for pair in zip(family_pairs["person_id_a"], family_pairs["person_id_b"], strict=True)
    ]
    family_pairs["relation"] = np.where(is_twin, "twin", "household")
    if len(son):
        father_son = set(zip(pid[father], pid[son], strict=True))
        is_father_son = [
            pair in father_son
            for pair in zip(family_pairs["person_id_a"], family_pairs["person_id_b"], strict=True)
        ]
        family_pairs.loc[is_father_son, "relation"] = "father_son"
    a, b = np.minimum(namesake, original), np.maximum(namesake, original)
    namesakes = pd.DataFrame({"person_id_a": pid[a], "person_id_b": pid[b], "relation": "namesake"})
    out = pd.concat([family_pairs, namesakes, _same_name_pairs(persons, common)], ignore_index=True)
    out = out.drop_duplicates(["person_id_a", "person_id_b", "relation"])
    return out.sort_values(["person_id_a", "person_id_b", "relation"], ignore_index=True)


def _same_name_pairs(persons: pd.DataFrame, holders: np.ndarray) -> pd.DataFrame:
    """Every pair of ``holders`` sharing a full name, relation ``common_name``."""
    frame = persons.iloc[holders][["person_id", "full_name"]]
    pairs = frame.merge(frame, on="full_name", suffixes=("_a", "_b"))
    pairs = pairs[pairs["person_id_a"] < pairs["person_id_b"]]
    return pairs[["person_id_a", "person_id_b"]].assign(relation="common_name")
