"""Noise profiles (conf/sample/profiles): default unchanged, each profile's shape as documented."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import phonenumbers
import pytest

from c360.contract import CRM_CONTACTS, ERP_CUSTOMERS, LOYALTY_MEMBERS, PERSON_SOURCES
from c360.sample import GeneratorConfig, generate_landing_zone, load_noise_config
from c360.sample.config import GeneratorInputError
from c360.sample.noise import PROFILE_TARGETS, SOURCE_FIELDS
from c360.sample.profiles import available_profiles, load_noise_profile
from c360.sample.spelling import (
    decomposed,
    moved_tone,
    moved_tone_word,
    typed_residue,
    wrong_tone,
)
from c360.sample.text import fold_diacritics as fold

START = date(2025, 10, 1)


def profile_landing(make_landing, tmp: Path, name: str, people: int = 2000):
    """A landing zone of ``name`` (tests/sample/conftest.py's object)."""
    config = load_noise_profile(name).generator_config(
        people=people, days=2, start=START, seed=3, history_days=10
    )
    return make_landing(tmp, **{f: getattr(config, f) for f in config.__dataclass_fields__})


@pytest.fixture(scope="module")
def hard(make_landing, tmp_path_factory):
    return profile_landing(make_landing, tmp_path_factory.mktemp("hard"), "hard")


@pytest.fixture(scope="module")
def western(make_landing, tmp_path_factory):
    return profile_landing(make_landing, tmp_path_factory.mktemp("western"), "western")


@pytest.fixture(scope="module")
def sparse(make_landing, tmp_path_factory):
    return profile_landing(make_landing, tmp_path_factory.mktemp("sparse"), "sparse")


def _names(landing: object) -> pd.DataFrame:
    """Every landed name with its record key and person (day one and later days)."""
    frames = []
    for source, fields in SOURCE_FIELDS.items():
        entity = PERSON_SOURCES[source]
        frame = landing.read_all(entity)
        frames.append(
            pd.DataFrame(
                {"source_system": source, "source_record_id": frame[entity.key_column],
                 "name": frame[fields["name"]]}
            )
        )  # fmt: skip
    names = pd.concat(frames, ignore_index=True).drop_duplicates(
        ["source_system", "source_record_id"], keep="first"
    )
    truth = landing.truth_csv("person_truth.csv")
    persons = landing.truth_csv("persons.csv")
    return names.merge(truth, on=["source_system", "source_record_id"]).merge(
        persons, on="person_id"
    )


def _logged(landing: object, kind: str) -> pd.DataFrame:
    log = landing.truth_csv("noise_log.csv")
    return log[log["noise_kind"] == kind]


# --- pure spelling functions: exact values ------------------------------------------------


@pytest.mark.parametrize(
    ("text", "method", "typed"),
    [
        ("Nguyễn Văn", "telex", "Nguyeenx Vawn"),  # circumflex doubled, breve "w", tone at end
        ("Đức", "telex", "Dduwcs"),
        ("Nguyễn", "viqr", "Nguye^~n"),  # VIQR marks follow their vowel
        ("Hương", "vni", "Hu7o7ng"),  # VNI digits; no tone
        ("Lê An", "vni", "Le6 An"),
    ],
)
def test_typed_residue(text: str, method: str, typed: str) -> None:
    assert typed_residue(text, method) == typed


def test_tone_placement_and_wrong_tone() -> None:
    assert moved_tone_word("Hòa") == "Hoà" and moved_tone_word("Hoà") == "Hòa"
    assert moved_tone_word("Thủy") == "Thuỷ"
    assert moved_tone_word("Hoàng") is None  # final consonant: one placement only
    assert moved_tone_word("Quý") is None  # "qu" + y is no oa / oe / uy pair
    assert moved_tone("Lê Thị Thùy Linh") == "Lê Thị Thuỳ Linh"
    assert wrong_tone("Nguyễn Thị Hương", -1, 1) == "Nguyễn Thị Hường"
    assert wrong_tone("Lê Hùng", -1, 1) == "Lê Hủng"  # same tone asked: the next one is used
    text = decomposed("Nguyễn")
    assert text != "Nguyễn" and unicodedata.normalize("NFC", text) == "Nguyễn"


# --- profiles ------------------------------------------------------------------------------


def test_every_profile_loads_and_unknown_names_are_refused() -> None:
    assert {"default", "hard", "western", "sparse"} <= set(available_profiles())
    for name in available_profiles():
        assert load_noise_profile(name).description
    with pytest.raises(GeneratorInputError, match=r"available: .*hard"):
        load_noise_profile("no-such-profile")


def test_a_profile_with_an_unknown_kind_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("noise:\n  typoo: 0.1\n", encoding="utf-8")
    with pytest.raises(GeneratorInputError, match="typoo"):
        load_noise_profile(bad)


def test_default_profile_is_byte_identical_to_no_profile(tmp_path: Path) -> None:
    plain = GeneratorConfig(
        people=700, days=2, start=START, seed=9, noise=load_noise_config(), history_days=20
    )
    profiled = load_noise_profile("default").generator_config(
        people=700, days=2, start=START, seed=9, history_days=20
    )
    generate_landing_zone(plain, tmp_path / "a" / "raw", tmp_path / "a" / "truth")
    generate_landing_zone(profiled, tmp_path / "b" / "raw", tmp_path / "b" / "truth")
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*"))
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*"))
    assert files_a == files_b
    for rel in files_a:
        if (tmp_path / "a" / rel).is_file():
            assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel


@pytest.mark.parametrize("name", ["hard", "western", "sparse"])
def test_profiles_meet_the_landing_zone_contract(name: str, request, read) -> None:
    landing = request.getfixturevalue(name)
    for entity in (CRM_CONTACTS, ERP_CUSTOMERS, LOYALTY_MEMBERS):
        for day in landing.days:
            files = landing.files(entity, day)
            assert files, (entity.name, day)
            for path in files:
                header = list(read(path).columns)
                assert header[: len(entity.required_columns)] == list(entity.required_columns)
            assert (path.parent / "_SUCCESS").exists()


def test_hard_profile_applies_every_added_kind_at_its_rate(hard: object) -> None:
    log = hard.truth_csv("noise_log.csv")
    rates = hard.config.profile_noise.as_dict()
    for kind, rate in rates.items():
        if rate:
            assert (log["noise_kind"] == kind).sum() > 0, kind
            assert set(log.loc[log["noise_kind"] == kind, "field"]) <= {
                SOURCE_FIELDS[s][role] for s in SOURCE_FIELDS for role in PROFILE_TARGETS[kind]
                if role in SOURCE_FIELDS[s]
            }  # fmt: skip
    # given_name_first: exactly round(0.06 * records) per source (everyone not swapped is
    # eligible; swapped ones are few), each landed value starting with the given name
    crm = hard.summary.rows["crm_contacts"]
    given_first = _logged(hard, "given_name_first")
    assert abs((given_first["source_system"] == "crm").sum() - 0.06 * crm) < 0.01 * crm


def test_hard_profile_landed_values_show_their_noise(hard: object) -> None:
    names = _names(hard)
    key = ["source_system", "source_record_id"]

    def noisy(kind: str) -> pd.DataFrame:
        return names.merge(_logged(hard, kind)[key].drop_duplicates(), on=key)

    log = hard.truth_csv("noise_log.csv")
    name_kinds = log[log["field"].isin(["full_name", "name"])].groupby(key)["noise_kind"].nunique()

    def alone(kind: str) -> pd.DataFrame:
        """Records whose name got this kind and no other (kinds stack otherwise)."""
        frame = noisy(kind).set_index(key)
        frame = frame[name_kinds.reindex(frame.index).to_numpy() == 1]
        assert len(frame) > 10, kind
        return frame

    assert noisy("typing_residue")["name"].map(lambda v: v.isascii()).all()
    for landed, clean in zip(*alone("typing_residue")[["name", "full_name"]].T.values, strict=True):
        assert landed in {typed_residue(clean, m) for m in ("telex", "vni", "viqr")}, landed
    nfd = alone("decomposed_unicode")
    assert (nfd["name"] == nfd["full_name"].map(decomposed)).all()
    cut = alone("truncated_name")
    assert cut["name"].str.len().between(10, 16).all()
    assert all(c.startswith(n) for n, c in zip(cut["name"], cut["full_name"], strict=True))
    assert alone("initialled_name")["name"].str.contains(r"\w\.").all()
    moved = alone("tone_placement")
    assert (moved["name"] == moved["full_name"].map(moved_tone)).all()
    wrong = alone("wrong_tone")
    assert (wrong["name"] != wrong["full_name"]).all()
    assert (wrong["name"].map(fold) == wrong["full_name"].map(fold)).all()
    first = noisy("given_name_first").merge(noisy("typo")[key], on=key, how="left", indicator=True)
    clean = first[first["_merge"] == "left_only"]
    starts = [n.split(" ")[0] for n in clean["name"]]
    assert np.mean([s in (g, unicodedata.normalize("NFD", g)) or not s.isalpha()
                    for s, g in zip(starts, clean["given_name"], strict=True)]) > 0.8  # fmt: skip


def test_hard_profile_hard_negatives(hard: object) -> None:
    pairs = hard.truth_csv("hard_negatives.csv")
    persons = hard.truth_csv("persons.csv").set_index("person_id")
    assert {"father_son", "twin", "household", "namesake", "common_name"} <= set(pairs["relation"])
    father_son = pairs[pairs["relation"] == "father_son"]
    a, b = persons.loc[father_son["person_id_a"]], persons.loc[father_son["person_id_b"]]
    assert (a["full_name"].to_numpy() == b["full_name"].to_numpy()).all()
    assert (a["address"].to_numpy() == b["address"].to_numpy()).all()
    years = (
        pd.to_datetime(b["date_of_birth"].to_numpy())
        - pd.to_datetime(a["date_of_birth"].to_numpy())
    ).days / 365.25
    assert (np.abs(years) >= 19).all() and (np.abs(years) <= 41).all()
    landlines = (a["phone"].to_numpy() == b["phone"].to_numpy()) & a["phone"].str.startswith("02")
    assert 0.3 < landlines.mean() < 0.7  # landline_rate 0.5
    common = pairs[pairs["relation"] == "common_name"]
    a, b = persons.loc[common["person_id_a"]], persons.loc[common["person_id_b"]]
    assert (a["full_name"].to_numpy() == b["full_name"].to_numpy()).all()
    assert (a["household_id"].to_numpy() != b["household_id"].to_numpy()).all()


def test_western_profile(western: object) -> None:
    crm = western.read_all(CRM_CONTACTS)
    loyalty = western.read_all(LOYALTY_MEMBERS)
    persons = western.truth_csv("persons.csv")
    assert (crm["gender"] == "").all() and (loyalty["gender"] == "").all()
    assert (persons["cccd"] == "").all() and persons["passport"].str.match(r"^[A-Z0-9]{8,9}$").all()
    # national IDs are passports (or their hand-typed spellings), never CCCD / CMND digits
    ids = crm.loc[crm["national_id"] != "", "national_id"]
    assert not ids.str.fullmatch(r"\d{12}").any()
    assert ids.str.replace(r"[ -]", "", regex=True).str.upper().isin(set(persons["passport"])).all()
    # phones: valid numbers, most of them foreign
    phones = pd.concat([crm["phone"], loyalty["phone"]])
    phones = phones[phones != ""]
    parsed = [phonenumbers.parse(p, "VN") for p in phones]
    foreign = [p for p in parsed if p.country_code != 84]  # Vietnamese ones may be pre-2018
    assert all(phonenumbers.is_valid_number(p) for p in foreign)
    assert len(foreign) > 0.6 * len(parsed)
    assert len({p.country_code for p in foreign}) >= 6
    # Western order: the landed name usually starts with the given name
    names = _names(western)
    assert (names["name"].str.split(" ").str[0] == names["given_name"]).mean() > 0.85
    # birth dates in all three accepted spellings
    dob = pd.concat([crm["date_of_birth"], loyalty["date_of_birth"]])
    dob = dob[dob != ""]
    spellings = {
        "iso": dob.str.fullmatch(r"\d{4}-\d{2}-\d{2}").mean(),
        "dmy": dob.str.fullmatch(r"\d{2}/\d{2}/\d{4}").mean(),
        "compact": dob.str.fullmatch(r"\d{8}").mean(),
    }
    assert all(share > 0.05 for share in spellings.values()), spellings
    assert len(_logged(western, "dob_typo")) > 0


def test_dob_typos_change_exactly_one_digit(western: object) -> None:
    crm = western.read(CRM_CONTACTS, START).set_index("contact_id")
    typos = _logged(western, "dob_typo")
    typos = typos[(typos["source_system"] == "crm") & (typos["day"] == START.isoformat())]
    persons = western.truth_csv("persons.csv").set_index("person_id")
    truth = western.truth_csv("person_truth.csv")
    truth = truth[truth["source_system"] == "crm"].set_index("source_record_id")["person_id"]
    other = set(_logged(western, "dob_day_month_swap")["source_record_id"])
    checked = 0
    for record in typos["source_record_id"]:
        landed = crm.loc[record, "date_of_birth"]
        if record in other or not landed:
            continue
        true = datetime.strptime(persons.loc[truth[record], "date_of_birth"], "%Y-%m-%d")
        for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%Y%m%d"):
            if re.fullmatch(r"[\d/-]+", landed) and len(true.strftime(fmt)) == len(landed):
                diff = sum(x != y for x, y in zip(true.strftime(fmt), landed, strict=True))
                if diff == 1:
                    checked += 1
                    break
    assert checked >= 0.9 * len(typos) - len(other)


def test_sparse_profile(sparse: object) -> None:
    crm, erp = sparse.read_all(CRM_CONTACTS), sparse.read_all(ERP_CUSTOMERS)
    for frame in (crm, erp):
        assert (frame["phone"] == "").all() and (frame["email"] == "").all()
    assert sparse.summary.rows["loyalty_members"] == 0
    day_one = sparse.read(CRM_CONTACTS, START)
    assert (day_one["date_of_birth"] == "").mean() >= 0.40
    log = sparse.truth_csv("noise_log.csv")
    assert not log["field"].isin(["phone", "email"]).any()  # nothing applied to absent fields
    assert sparse.truth_csv("hard_negatives.csv").shape[0] > 0


def test_overrides_win_over_the_profile_and_unknown_kinds_are_named() -> None:
    hard = load_noise_profile("hard")
    config = hard.generator_config(
        people=10, days=1, start=START, seed=1, overrides={"wrong_tone": 0.5, "typo": 0.1}
    )
    assert config.profile_noise.wrong_tone == 0.5 and config.noise.typo == 0.1
    assert config.profile_noise.typing_residue == 0.04  # the profile's own rate
    assert config.population.father_son_rate == 0.15 and config.profile == "hard"
    with pytest.raises(GeneratorInputError, match="wrongtone"):
        hard.generator_config(people=10, days=1, start=START, seed=1, overrides={"wrongtone": 1})
