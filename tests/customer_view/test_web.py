"""The web page over HTTP (a real uvicorn server): POST forms, labels, no identifier logged."""

from __future__ import annotations

import logging

import pytest
import requests
from view_lake import C1

from c360.customer_view.web import running_server as serving


@pytest.fixture
def site(view_root, view_config):
    with serving(view_root, view_config) as url:
        yield url


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_search_is_a_post_form_with_english_and_vietnamese_labels(site):
    home = requests.get(site + "/", timeout=10).text
    assert '<form method="post" action="/search">' in home and "Single customer view" in home
    vietnamese = requests.get(site + "/?lang=vi", timeout=10).text
    assert "Hồ sơ khách hàng hợp nhất" in vietnamese and "Tìm kiếm" in vietnamese


def test_search_profile_and_explanation_pages(site):
    found = requests.post(site + "/search", data={"q": "0912 345 678"}, timeout=10).text
    assert C1 in found and "N*** V*** A***" in found and "Nguyễn Văn An" not in found
    profile = requests.post(site + "/profile", data={"customer_id": C1}, timeout=10).text
    assert "Nguyễn Văn An" in profile and "withdrawn" in profile and "granted" in profile
    assert "sms: withdrawn" in profile  # the newest timeline row
    assert "loyal" in profile and "vip_south" in profile
    vi = requests.post(site + "/profile", data={"customer_id": C1, "lang": "vi"}, timeout=10)
    assert "rút lại" in vi.text and "Dòng thời gian" in vi.text
    explain = requests.post(site + "/explain", data={"customer_id": C1}, timeout=10).text
    assert "given_name" in explain and "guard.personal_evidence" in explain
    assert requests.post(site + "/profile", data={"customer_id": "C9"}, timeout=10).ok


def test_segment_pages_show_counts(site):
    listing = requests.get(site + "/segments", timeout=10).text
    assert "vip_south" in listing and "winback" in listing and "old_seg" in listing
    page = requests.get(site + "/segments/vip_south", timeout=10).text
    assert "2026-11-01" in page and C1 not in page


def test_no_identifier_reaches_the_access_log(site):
    lines = _Lines()
    access = logging.getLogger("uvicorn.access")
    access.addHandler(lines)
    try:
        requests.post(site + "/search", data={"q": "+84912345678"}, timeout=10)
        requests.post(site + "/profile", data={"customer_id": C1}, timeout=10)
        requests.get(site + "/?lang=vi&q=+84912345678", timeout=10)
    finally:
        access.removeHandler(lines)
    assert len(lines.lines) == 3
    assert any('"POST /search' in line for line in lines.lines)
    assert not any("8491" in line or C1 in line or "?" in line for line in lines.lines)


def test_the_page_never_writes_the_lakehouse(view_root, view_config):
    before = sorted((p, p.stat().st_mtime_ns) for p in view_root.rglob("*") if p.is_file())
    with serving(view_root, view_config) as url:
        requests.post(url + "/search", data={"q": "nguyen"}, timeout=10)
        requests.post(url + "/profile", data={"customer_id": C1}, timeout=10)
        requests.post(url + "/explain", data={"customer_id": C1}, timeout=10)
    after = sorted((p, p.stat().st_mtime_ns) for p in view_root.rglob("*") if p.is_file())
    assert after == before


def test_the_server_binds_to_loopback_only():
    from c360.customer_view.config import ServerConfig

    with pytest.raises(ValueError, match="loopback"):
        ServerConfig(host="0.0.0.0")
