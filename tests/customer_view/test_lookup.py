"""Lookup: the query standardised as silver does, answered from golden, map and person records."""

from __future__ import annotations

import pytest
from view_lake import C1, C2

from c360.customer_view.lookup import find_customers, standardise_query
from c360.masking import mask


@pytest.mark.parametrize(
    "query", ["+84912345678", "0912 345 678", "84912345678", "(+84) 912-345-678", "0912.345.678"]
)
def test_a_phone_in_any_common_format_standardises_like_silver(query):
    assert standardise_query(query).phone_e164 == "+84912345678"


def test_other_identifier_kinds_standardise_like_silver():
    assert standardise_query("  An.Nguyen@Example.VN ").email == "an.nguyen@example.vn"
    assert standardise_query("079 090 012 345").national_id == "079090012345"
    assert standardise_query("Nguyễn Văn An").full_name_folded == "nguyen van an"
    assert standardise_query("nguyen van an").full_name_folded == "nguyen van an"


def _found(store, query):
    return [(m.customer_id, m.matched_on, m.score) for m in find_customers(store, query)]


def test_phone_landed_with_spaces_is_found_by_its_e164_form(store):
    # crm:K1 landed "0912 345 678" (bronze); silver and golden hold +84912345678
    assert _found(store, "+84912345678") == [(C1, "phone", 1.0)]
    assert _found(store, "0912 345 678") == [(C1, "phone", 1.0)]


def test_a_phone_that_lost_survivorship_is_found_through_the_linked_record(store):
    # loyalty:M1's phone is not the golden one: the answer comes from silver/person_records
    assert _found(store, "090 111 1222") == [(C1, "phone (linked record)", 1.0)]


def test_lookup_by_customer_id_record_email_and_national_id(store):
    assert _found(store, C2) == [(C2, "customer_id", 1.0)]
    assert _found(store, "crm:K1") == [(C1, "crm record", 1.0)]
    assert _found(store, "E7") == [(C2, "erp record", 1.0)]
    assert _found(store, "AN.NGUYEN@example.vn") == [(C1, "email", 1.0)]
    assert _found(store, "123.456.789") == [(C2, "national_id", 1.0)]


def test_a_retired_id_finds_the_customer_it_was_merged_into(store):
    assert _found(store, "C0000000003") == [(C1, "customer_id (merged)", 1.0)]
    assert _found(store, "C0000000004") == [(C1, "customer_id (merged)", 1.0)]  # two hops


def test_names_are_found_with_or_without_diacritics(store):
    assert _found(store, "Trần Thị Bình") == [(C2, "name", 1.0)]
    assert _found(store, "tran thi binh") == [(C2, "name", 1.0)]
    partial = find_customers(store, "nguyen an")  # every token in the name
    assert [m.customer_id for m in partial] == [C1] and 0.85 <= partial[0].score < 1.0
    assert find_customers(store, "Phạm Quỳnh") == []


def test_matches_show_masked_personal_values_only(store):
    (match,) = find_customers(store, "+84912345678")
    assert (match.name, match.phone, match.email) == (
        "N*** V*** A***",
        "+849******78",
        "a***@example.vn",
    )
    assert mask("079090012345", "national_id") == "*********345"
    assert "Nguyễn" not in str(match.as_dict()) and "912345678" not in str(match.as_dict())


def test_an_empty_query_matches_nobody(store):
    assert find_customers(store, "   ") == []
