"""Identity fields: phone, e-mail, national ID, province, gender, consent.

Each function takes the landed value and returns the standardised value (None when empty or
unusable) and an issue string (``"<field>: <problem>"``) when a present value could not be used
as landed. Results are cached per distinct value: the same spelling is worked out once.
"""

from __future__ import annotations

import functools
import re

import phonenumbers

from c360.reference_data import (
    CCCD_GENDER_CENTURY_DIGIT,
    CCCD_PROVINCE_CODES,
    MOBILE_PREFIXES_BY_CARRIER,
    PROVINCES_PRE_2025,
    remap_old_mobile,
)
from c360.standardise.rules import StandardiseRules, default_rules, province_key
from c360.standardise.text import clean_text, fold, fold_normalised

_CACHE_SIZE = 1 << 16

PHONE_INVALID = "phone: not a valid Vietnamese phone number"
EMAIL_INVALID = "email: not a valid email address"
PROVINCE_UNKNOWN = "province: unknown province"
GENDER_UNKNOWN = "gender: unrecognised value"

# ---- phone ----------------------------------------------------------------------------------
# 10-digit mobile numbers with a current carrier prefix are valid whatever their last 7 digits
# (phonenumbers 9.0 only knows part of MobiFone's 089 block: 0890-0895 fail its validation).
_MOBILE_PREFIXES = frozenset(
    p for prefixes in MOBILE_PREFIXES_BY_CARRIER.values() for p in prefixes
)
_NON_DIGIT = re.compile(r"\D")


def standardise_phone(
    raw: object, rules: StandardiseRules | None = None
) -> tuple[str | None, str | None]:
    """A phone number in E.164, with the 2018 remapping of 11-digit mobile numbers.

    Accepts national (``0912345678``), international (``+84``, ``84``, ``0084``, ``(+84)``) and
    spaced / dotted / dashed spellings; pre-2018 mobile prefixes (``0168`` -> ``038``) are
    remapped; landlines valid per ``phonenumbers`` are kept, as are valid foreign numbers
    written with their ``+`` country code.

    Returns:
        ``(e164, None)``, ``(None, None)`` when empty, ``(None, issue)`` when not a phone.

    Example:
        >>> standardise_phone("(+84) 168-812-3456")
        ('+84388123456', None)
    """
    return _standardise_phone(raw, rules or default_rules())


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _standardise_phone(raw: object, rules: StandardiseRules) -> tuple[str | None, str | None]:
    text = clean_text(raw, rules)
    if text is None:
        return None, None
    digits = _NON_DIGIT.sub("", text)
    if not digits:
        return None, PHONE_INVALID
    international = text.lstrip("( ").startswith("+")
    if digits.startswith("00"):
        digits, international = digits[2:], True
    if international and not digits.startswith("84"):
        return _parse_phone("+" + digits, None)
    if digits.startswith("84") and (international or len(digits) in (11, 12)):
        national = "0" + digits[2:]
    elif digits.startswith("0"):
        national = digits
    else:
        national = "0" + digits  # trunk zero left out: "912345678"
    national = remap_old_mobile(national)
    if len(national) == 10 and national[:3] in _MOBILE_PREFIXES:
        return "+84" + national[1:], None
    return _parse_phone(national, "VN")


def uncached_standardise_phone(
    raw: object, rules: StandardiseRules
) -> tuple[str | None, str | None]:
    """:func:`standardise_phone` without the per-value cache (for values already distinct)."""
    return _standardise_phone.__wrapped__(raw, rules)


def _parse_phone(number: str, region: str | None) -> tuple[str | None, str | None]:
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return None, PHONE_INVALID
    if not phonenumbers.is_valid_number(parsed):
        return None, PHONE_INVALID
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), None


# ---- email ----------------------------------------------------------------------------------
_EMAIL = re.compile(
    r"^(?!\.)(?!.*\.\.)[a-z0-9!#$%&'*+/=?^_`{|}~.-]+(?<!\.)"
    r"@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:[a-z]{2,}|xn--[a-z0-9-]+)$"
)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _standardise_email(raw: object, rules: StandardiseRules) -> tuple[str | None, str | None]:
    text = clean_text(raw, rules)
    if text is None:
        return None, None
    email = text.lower()
    if email.startswith("mailto:"):
        email = email[len("mailto:") :]
    if email.count("@") != 1:
        return None, EMAIL_INVALID
    local, domain = email.split("@")
    issue = None
    if domain in rules.email_domain_fix_map:
        fixed = rules.email_domain_fix_map[domain]
        issue = f"email: domain {domain} corrected to {fixed}"
        email = f"{local}@{fixed}"
    if not _EMAIL.match(email):
        return None, EMAIL_INVALID
    return email, issue


def standardise_email(
    raw: object, rules: StandardiseRules | None = None
) -> tuple[str | None, str | None]:
    """Trimmed, lower-cased, syntactically valid e-mail address.

    Valid: one ``@``, a local part of the usual characters (no leading, trailing or double
    dot; tags such as ``an+shop`` and quotes-free specials kept), a domain of dot-separated
    labels ending in a 2+ letter or punycode (``xn--p1ai``) top-level domain, no spaces.
    Misspelt big-provider domains (``gmial.com``) are corrected and flagged.

    Example:
        >>> standardise_email("  Nguyen.An@GMAIL.com ")
        ('nguyen.an@gmail.com', None)
        >>> standardise_email("an@gmial.com")
        ('an@gmail.com', 'email: domain gmial.com corrected to gmail.com')
    """
    return _standardise_email(raw, rules or default_rules())


def uncached_standardise_email(
    raw: object, rules: StandardiseRules
) -> tuple[str | None, str | None]:
    """:func:`standardise_email` without the per-value cache (for values already distinct)."""
    return _standardise_email.__wrapped__(raw, rules)


# ---- national ID ----------------------------------------------------------------------------
_ID_SEPARATORS = re.compile(r"[\s.\-/_]")
_ID_CHARACTERS = re.compile(r"^[0-9A-Z]+$")
_GENDER_CENTURY_DIGITS = frozenset(CCCD_GENDER_CENTURY_DIGIT.values())

NATIONAL_ID_NOT_A_NUMBER = "national_id: not an identity document number"
NATIONAL_ID_PLACEHOLDER = "national_id: placeholder (one digit repeated)"
CCCD_UNKNOWN_PROVINCE = "national_id: 12 digits with unknown CCCD province code; kept as other"
CCCD_BAD_GENDER_CENTURY = (
    "national_id: 12 digits with invalid CCCD gender/century digit; kept as other"
)
CCCD_LEADING_ZERO = "national_id: CCCD leading zero restored"
NATIONAL_ID_PASSPORT = "national_id: passport number, not a CMND / CCCD"
NATIONAL_ID_OTHER = "national_id: not a CMND, CCCD or passport number; kept as other"
NATIONAL_ID_TYPES = ("cmnd", "cccd", "passport", "other")


def _cccd_issue(digits: str) -> str | None:
    if digits[:3] not in CCCD_PROVINCE_CODES:
        return CCCD_UNKNOWN_PROVINCE
    if digits[3] not in _GENDER_CENTURY_DIGITS:
        return CCCD_BAD_GENDER_CENTURY
    return None


def standardise_national_id(
    raw: object, rules: StandardiseRules | None = None
) -> tuple[str | None, str | None, str | None]:
    """An identity document number and its type: ``cmnd``, ``cccd``, ``passport`` or ``other``.

    Trimmed, upper-cased, separators (spaces, dots, dashes, slashes, underscores) removed.
    9 digits are a CMND; 12 digits starting with a known place-of-registration code and a
    gender/century digit (0-5) in 4th place are a CCCD; an 11-digit value that becomes a valid
    CCCD with a leading zero (spreadsheets drop it) is repaired and flagged. Anything else of
    ``national_id.min_length`` to ``max_length`` letters and digits is kept and flagged: a
    ``passport`` when it matches ``national_id.passport_pattern`` (``C1234567``), else
    ``other`` (foreign or legacy IDs, a CCCD with an impossible prefix). Only placeholders
    (one digit repeated) and values that are no document number are nulled.

    Returns:
        ``(number, type, issue)``; ``(None, None, issue)`` when unusable.

    Example:
        >>> standardise_national_id("079 090 012 345")
        ('079090012345', 'cccd', None)
        >>> standardise_national_id("123.456.789")
        ('123456789', 'cmnd', None)
        >>> standardise_national_id(" c1234567 ")
        ('C1234567', 'passport', 'national_id: passport number, not a CMND / CCCD')
    """
    return _standardise_national_id(raw, rules or default_rules())


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _standardise_national_id(
    raw: object, rules: StandardiseRules
) -> tuple[str | None, str | None, str | None]:
    text = clean_text(raw, rules)
    if text is None:
        return None, None, None
    number = _ID_SEPARATORS.sub("", text).upper()
    if not (number.isascii() and _ID_CHARACTERS.match(number)) or not any(
        c.isdigit() for c in number
    ):
        return None, None, NATIONAL_ID_NOT_A_NUMBER
    if number.isdigit() and len(set(number)) == 1:
        return None, None, NATIONAL_ID_PLACEHOLDER
    if number.isdigit() and len(number) == 9:
        return number, "cmnd", None
    if number.isdigit() and len(number) == 11 and _cccd_issue("0" + number) is None:
        return "0" + number, "cccd", CCCD_LEADING_ZERO
    if number.isdigit() and len(number) == 12:
        issue = _cccd_issue(number)
        return number, "other" if issue else "cccd", issue
    if not rules.national_id_min_length <= len(number) <= rules.national_id_max_length:
        return None, None, NATIONAL_ID_NOT_A_NUMBER
    if rules.passport_pattern.match(number):
        return number, "passport", NATIONAL_ID_PASSPORT
    return number, "other", NATIONAL_ID_OTHER


def uncached_standardise_national_id(
    raw: object, rules: StandardiseRules
) -> tuple[str | None, str | None, str | None]:
    """:func:`standardise_national_id` without the per-value cache (values already distinct)."""
    return _standardise_national_id.__wrapped__(raw, rules)


# ---- province -------------------------------------------------------------------------------
def _regions_2025() -> dict[str, str]:
    regions: dict[str, set[str]] = {}
    for province in PROVINCES_PRE_2025:
        regions.setdefault(province.merged_into, set()).add(province.region)
    split = {name: r for name, r in regions.items() if len(r) != 1}
    if split:
        raise ValueError(f"2025 provinces spanning two regions: {split}")
    return {name: r.pop() for name, r in regions.items()}


REGION_BY_PROVINCE_2025: dict[str, str] = _regions_2025()


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _standardise_province(
    raw: object, rules: StandardiseRules
) -> tuple[str | None, str | None, str | None]:
    text = clean_text(raw, rules)
    if text is None:
        return None, None, None
    key = province_key(fold_normalised(text) or "")
    index = rules.province_index
    candidates = [key]
    for prefix in rules.province_prefixes:
        if key.startswith(prefix):
            candidates.append(key[len(prefix) :])
    for candidate in list(candidates):
        for suffix in rules.province_suffixes:
            if candidate.endswith(suffix):
                candidates.append(candidate[: -len(suffix)])
    for candidate in candidates:
        if candidate in index:
            canonical = index[candidate]
            return canonical, REGION_BY_PROVINCE_2025[canonical], None
    return None, None, PROVINCE_UNKNOWN


def standardise_province(
    raw: object, rules: StandardiseRules | None = None
) -> tuple[str | None, str | None, str | None]:
    """Canonical 2025 province name and its region.

    Names with or without diacritics, in any case, with "Tỉnh" / "Thành phố" / "TP." before or
    "City" after, and the aliases of ``conf/standardise.yaml`` (HCM, Sài Gòn, BR-VT, ...) are
    recognised; pre-2025 names map to the unit they were merged into.

    Returns:
        ``(province, region, issue)``; region is "north", "centre" or "south".

    Example:
        >>> standardise_province("Tỉnh Bình Dương")
        ('Hồ Chí Minh', 'south', None)
        >>> standardise_province("thua thien hue")
        ('Huế', 'centre', None)
    """
    return _standardise_province(raw, rules or default_rules())


# ---- gender, consent ------------------------------------------------------------------------
@functools.lru_cache(maxsize=1024)
def _standardise_gender(raw: object, rules: StandardiseRules) -> tuple[str | None, str | None]:
    text = clean_text(raw, rules)
    if text is None:
        return None, None
    key = fold_normalised(text)
    if key in rules.male_values:
        return "male", None
    if key in rules.female_values:
        return "female", None
    return None, GENDER_UNKNOWN


def standardise_gender(
    raw: object, rules: StandardiseRules | None = None
) -> tuple[str | None, str | None]:
    """``"male"`` or ``"female"`` from the spellings of ``conf/standardise.yaml``.

    Example:
        >>> standardise_gender("Nữ")
        ('female', None)
        >>> standardise_gender("khác")
        (None, 'gender: unrecognised value')
    """
    return _standardise_gender(raw, rules or default_rules())


@functools.lru_cache(maxsize=1024)
def _parse_consent(raw: object, rules: StandardiseRules) -> bool | None:
    key = fold(raw)
    if key in rules.consent_yes:
        return True
    if key in rules.consent_no:
        return False
    return None


def parse_consent(raw: object, rules: StandardiseRules | None = None) -> bool | None:
    """A consent flag: yes/no, true/false, 1/0, y/n, có/không (any case); otherwise None.

    Example:
        >>> parse_consent("Có"), parse_consent("KHÔNG"), parse_consent("")
        (True, False, None)
    """
    return _parse_consent(raw, rules or default_rules())
