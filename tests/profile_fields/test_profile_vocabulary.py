"""Vocabularies, social IDs and the validation of conf/profile_fields.yaml (pure logic)."""

from __future__ import annotations

import pytest

from c360.config import ConfigError
from c360.contract import CRM_CONTACTS, ERP_CUSTOMERS, PROFILE_COLUMNS
from c360.profile_fields import PROFILE_FIELDS_FILE, load_profile_fields, parse_social_ids


@pytest.fixture(scope="module")
def vocabularies():
    return load_profile_fields().vocabularies


@pytest.mark.parametrize(
    ("field", "landed", "code"),
    [
        ("lead_source", "Landing Page", "landing_page"),
        ("lead_source", "landing_page", "landing_page"),
        ("lead_source", "FB Ads", "facebook_ads"),
        ("lead_source", "Zalo OA", "zalo_oa"),
        ("lead_source", "Giới thiệu", "referral"),
        ("lead_source", "gioi thieu", "referral"),
        ("lead_source", "Tại cửa hàng", "store"),
        ("occupation", "Giáo viên", "teacher"),
        ("occupation", "GIAO VIEN", "teacher"),
        ("occupation", "Nhân viên văn phòng", "office_worker"),
        ("industry", "Giáo dục", "education"),
        ("industry", "giao-duc", "education"),
        ("industry", "Bất động sản", "real_estate"),
        ("education", "Đại học", "bachelor"),
        ("education", "Thạc sỹ", "master"),
        ("marital_status", "Đã kết hôn", "married"),
        ("marital_status", "độc thân", "single"),
        ("marital_status", "astronaut", None),
        ("occupation", "", None),
    ],
)
def test_spellings_map_to_their_code(vocabularies, field, landed, code):
    assert vocabularies[field].code(landed) == code


def test_the_optional_columns_are_declared_once_on_the_person_entities():
    assert CRM_CONTACTS.optional_columns == PROFILE_COLUMNS
    assert ERP_CUSTOMERS.optional_columns == PROFILE_COLUMNS
    assert not set(PROFILE_COLUMNS) & set(CRM_CONTACTS.required_columns)


@pytest.mark.parametrize(
    ("landed", "ids"),
    [
        ("zalo:123;facebook:abc", ["facebook:abc", "zalo:123"]),
        (" Zalo : 123 | zalo:123 ", ["zalo:123"]),
        ('{"zalo": "123", "facebook": "abc"}', ["facebook:abc", "zalo:123"]),
        ('[{"network": "Zalo", "id": "9"}, "tiktok=@an"]', ["tiktok:@an", "zalo:9"]),
        ("", None),
    ],
)
def test_social_ids_are_parsed_into_a_sorted_list(landed, ids):
    assert parse_social_ids(landed) == ids


@pytest.mark.parametrize("landed", ["just text", "{not json", "[1, 2]", ":123"])
def test_unreadable_social_ids_raise(landed):
    with pytest.raises(ValueError):
        parse_social_ids(landed)


def _write(tmp_path, text: str):
    path = tmp_path / "profile_fields.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_bad_yaml_names_the_file(tmp_path):
    path = _write(tmp_path, "vocabularies: [unclosed\n")
    with pytest.raises(ConfigError, match=r"profile_fields\.yaml: cannot be read as YAML"):
        load_profile_fields(path)


def test_a_synonym_of_two_codes_names_the_key(tmp_path):
    base = PROFILE_FIELDS_FILE.read_text("utf-8")
    path = _write(tmp_path, base.replace("student: [sinh vien,", "student: [giao vien, sinh vien,"))
    with pytest.raises(
        ConfigError,
        match=r"vocabularies\.occupation.codes: .*'giao vien'.* both 'student' and 'teacher'",
    ):
        load_profile_fields(path)


@pytest.mark.parametrize(
    ("custom", "message"),
    [
        ("{name: phone, sources: [crm]}", "built-in column"),
        ("{name: x1, sources: [pos]}", "unknown sources"),
        ("{name: x1, sources: [crm], type: money}", r"custom_fields\.0\.type"),
        ("{name: x1, sources: [crm], type: int, vocabulary: industry}", "needs type string"),
        ("{name: x1, sources: [crm], vocabulary: colours}", "vocabulary 'colours'"),
        ("{name: Bad Name, sources: [crm]}", "lower_snake_case"),
    ],
)
def test_bad_custom_fields_are_refused_naming_the_key(tmp_path, custom, message):
    base = PROFILE_FIELDS_FILE.read_text("utf-8").split("\ncustom_fields:")[0]
    path = _write(tmp_path, base + f"\ncustom_fields:\n  - {custom}\n")
    with pytest.raises(ConfigError, match=message):
        load_profile_fields(path)
