"""Generic blocks: a block over ``prediction.max_records_per_block`` records is not scored."""

import pyarrow as pa
import pytest

from resolution.blocking import block_key, without_generic_blocks
from resolution.linker import DuckDBBackend
from resolution.pipeline import match_records

THRESHOLD = 0.95


def test_block_key_numbers_small_blocks_and_leaves_generic_ones_out():
    records = pa.table(
        {
            "given_name": ["anh", "anh", "anh", "binh", "binh", "binh", "chi"],
            "province": ["ha noi", "ha noi", "ha noi", "ha noi", "ha noi", None, "hue"],
        }
    )
    key, figures = block_key(records, ("given_name", "province"), max_records=2)
    numbers = key.to_pylist()
    assert numbers[:3] == [None, None, None]  # three "anh" in "ha noi": generic
    assert numbers[3] == numbers[4] is not None  # two "binh" in "ha noi": one block
    assert numbers[5] is None  # no province: no block
    assert numbers[6] is not None and numbers[6] != numbers[3]
    assert (figures.blocks_left_out, figures.records_in_them, figures.largest_block) == (1, 3, 3)


def _config(identity_config, max_records):
    """Two rules only: a shared phone, or the same full name in the same province."""
    prediction = identity_config.prediction.model_copy(
        update={"max_records_per_block": max_records, "keep_pairs_from_match_probability": None}
    )
    return identity_config.model_copy(
        update={
            "prediction": prediction,
            "blocking_rules": (("phone_e164",), ("full_name_folded", "province")),
        }
    )


def _namesakes(count: int) -> pa.Table:
    """``count`` people of one name in one province; the first two share a phone."""
    return pa.table(
        {
            "record_key": [f"crm:{i}" for i in range(count)],
            "full_name_folded": ["nguyen thi huong"] * count,
            "family_name": ["nguyen"] * count,
            "middle_name": ["thi"] * count,
            "given_name": ["huong"] * count,
            "province": ["Hồ Chí Minh"] * count,
            "phone_e164": ["+84912345678", "+84912345678"] + [None] * (count - 2),
            "date_of_birth": pa.array([None] * count, pa.date32()),
        }
    )


def _scored_pairs(result) -> set[tuple[str, str]]:
    table = result.predictions.as_pyarrow_table()
    left, right = table.column("record_key_l"), table.column("record_key_r")
    return set(zip(left.to_pylist(), right.to_pylist(), strict=True))


@pytest.mark.parametrize(("people", "max_records", "pairs"), [(5, 3, 1), (5, None, 10), (3, 3, 3)])
def test_a_generic_block_is_scored_only_through_the_other_rules(
    identity_config, trained_model, people, max_records, pairs
):
    config = _config(identity_config, max_records)
    result = match_records(
        _namesakes(people), DuckDBBackend(), config, THRESHOLD, model=trained_model
    )
    scored = _scored_pairs(result)
    assert len(scored) == pairs
    assert ("crm:0", "crm:1") in scored  # the shared phone still brings them together
    assert result.generic_blocks == (1 if pairs == 1 else 0)


def test_rules_without_a_generic_block_are_kept_as_declared(identity_config):
    config = _config(identity_config, 3)
    prepared, rules, capped = without_generic_blocks(_namesakes(3), config)
    assert rules == config.blocking_rules and capped == []
    assert prepared.column_names == _namesakes(3).column_names
    prepared, rules, capped = without_generic_blocks(_namesakes(4), config)
    assert rules == (("phone_e164",), ("block_key_1",))
    assert prepared.column("block_key_1").null_count == 4
    assert [c.rule for c in capped] == [("full_name_folded", "province")]
