"""conf/customer_view.yaml: validated at load, every label in both languages."""

from __future__ import annotations

import pytest

from c360.customer_view.config import CustomerViewConfigError, load_customer_view_config


def test_the_shipped_file_has_english_and_vietnamese_for_every_label():
    config = load_customer_view_config()
    assert config.server.host == "127.0.0.1"
    assert config.label("timeline", "vi") == "Dòng thời gian"
    assert all(label.en and label.vi for label in config.labels.values())
    for key in ("purchase", "refund", "loyalty_earn", "consent_change", "granted", "no_decision"):
        assert key in config.labels


def test_a_bad_key_or_value_names_the_key(tmp_path):
    bad = tmp_path / "view.yaml"
    bad.write_text("find_limit: 0\ncolour: blue\n", encoding="utf-8")
    with pytest.raises(CustomerViewConfigError) as error:
        load_customer_view_config(bad)
    assert "find_limit" in str(error.value) and "colour" in str(error.value)
    bad.write_text("server: {host: 0.0.0.0}\n", encoding="utf-8")
    with pytest.raises(CustomerViewConfigError, match=r"server\.host.*loopback"):
        load_customer_view_config(bad)
