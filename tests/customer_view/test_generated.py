"""The customer view over a generated lakehouse run through every stage (tests/conftest.py's
``pipeline_run``): lookup of a landed phone, ``explain`` of two known records, the browser test.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import pyarrow.compute as pc
import pytest
from deltalake import DeltaTable

from c360.customer_view.config import load_customer_view_config
from c360.customer_view.explanation import explain_customer
from c360.customer_view.lookup import find_customers
from c360.customer_view.profile import customer_profile
from c360.customer_view.store import ViewStore
from c360.tables import GOLD_IDENTITY_LINKS, GOLD_IDENTITY_MAP
from resolution.config import load_identity_config

pytestmark = [pytest.mark.spark, pytest.mark.slow]

ARTEFACTS = Path(__file__).resolve().parents[2] / "test-artefacts" / "customer_view"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def _truth(truth_root: Path) -> dict[str, str]:
    with (truth_root / "person_truth.csv").open(encoding="utf-8") as handle:
        return {f"{r['source_system']}:{r['source_record_id']}": r["person_id"]
                for r in csv.DictReader(handle)}  # fmt: skip


def _multi_record_customers(store: ViewStore) -> dict[str, list[str]]:
    rows = store.rows(GOLD_IDENTITY_MAP, None).to_pylist()
    records: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        records[row["customer_id"]].append(f"{row['source_system']}:{row['source_record_id']}")
    return {c: sorted(keys) for c, keys in records.items() if len(keys) >= 2}


def check_explain_names_the_linking_comparisons(lake_root: Path, truth_root: Path) -> None:
    """Two records of one known person: the pair joining them, with Splink's weights."""
    store, truth = ViewStore(lake_root), _truth(truth_root)
    customer, keys = next(
        (c, keys)
        for c, keys in sorted(_multi_record_customers(store).items())
        if len({truth[k] for k in keys}) == 1
    )
    explanation = explain_customer(store, customer)
    pairs = {(p["record_key_l"], p["record_key_r"]): p for p in explanation["accepted"]}
    linked = {k for pair in pairs for k in pair}
    assert linked == set(keys)  # the accepted edges hold every record of the cluster
    config = load_identity_config()
    names = {spec.name for spec in config.comparisons}
    pair = next(iter(pairs.values()))
    steps = {s["name"]: s for s in pair["waterfall"] if not s["name"].startswith(("prior", "tf:"))}
    assert set(steps) <= names and {"given_name", "family_name"} <= set(steps)
    level_names = {spec.name: {lv.name for lv in spec.levels} | {"else", "null"}
                   for spec in config.comparisons}  # fmt: skip
    assert all(s["level"] in level_names[name] for name, s in steps.items())
    assert any(s["log2_bayes_factor"] > 0 for s in steps.values())
    # the waterfall adds up to Splink's match weight, and the probability is the map's
    total = sum(s["log2_bayes_factor"] for s in pair["waterfall"])
    assert total == pytest.approx(pair["match_weight"], abs=1e-3)
    best = {
        f"{r['source_system']}:{r['source_record_id']}": r["match_probability"]
        for r in store.rows(GOLD_IDENTITY_MAP, pc.field("customer_id") == customer).to_pylist()
    }
    for key in keys:
        edges = [p["match_probability"] for (a, b), p in pairs.items() if key in (a, b)]
        assert max(edges) == pytest.approx(best[key])
    # every row is filed in its customer's bucket; refusals carry a reason
    links = DeltaTable(str(lake_root / "gold" / GOLD_IDENTITY_LINKS.name)).to_pyarrow_table()
    refused = links.filter(pc.equal(links["link"], "refused"))
    assert refused.num_rows and pc.all(pc.is_valid(refused["reason"])).as_py()


def check_landed_phone_found_by_e164(lake_root: Path) -> None:
    """A phone as the CRM landed it (national format) is found by its +84 form."""
    store = ViewStore(lake_root)
    bronze = DeltaTable(str(lake_root / "bronze" / "crm_contacts")).to_pyarrow_table(
        columns=["contact_id", "phone"]
    )
    landed = next(
        r for r in bronze.to_pylist() if r["phone"] and r["phone"].strip().startswith("0")
    )
    digits = "".join(ch for ch in landed["phone"] if ch.isdigit())
    e164 = "+84" + digits[1:]
    record = (pc.field("source_system") == "crm") & (
        pc.field("source_record_id") == landed["contact_id"]
    )
    customer = store.rows(GOLD_IDENTITY_MAP, record, ["customer_id"]).column(0)[0].as_py()
    assert customer in [m.customer_id for m in find_customers(store, e164)]


@pytest.fixture(scope="module")
def generated(pipeline_run):
    return pipeline_run.lake_root, pipeline_run.truth


def test_explain_names_the_comparisons_that_linked_two_known_records(generated):
    check_explain_names_the_linking_comparisons(*generated)


def test_a_landed_phone_is_found_by_its_e164_form(generated):
    check_landed_phone_found_by_e164(generated[0])


def browse(lake_root: Path, artefacts: Path = ARTEFACTS) -> Path:
    """Search a generated customer by phone in Chromium, open profile and explanation."""
    from playwright.sync_api import sync_playwright

    from c360.customer_view.web import running_server as serving

    store, config = ViewStore(lake_root), load_customer_view_config()
    profiles = (customer_profile(store, c, config) for c in sorted(_multi_record_customers(store)))
    profile = next(
        p for p in profiles
        if p["timeline"]["total"] and any(f["field"] == "phone_e164" and f["value"]
                                          for f in p["fields"])
    )  # fmt: skip
    customer = profile["customer_id"]
    fields = {f["field"]: f["value"] for f in profile["fields"]}
    phone = fields["phone_e164"]
    typed = f"0{phone[3:6]} {phone[6:9]} {phone[9:]}"  # +84912345678 typed as 0912 345 678
    artefacts.mkdir(parents=True, exist_ok=True)
    with serving(lake_root, config) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1100})
            page.goto(url + "/")
            page.fill("#q", typed)
            page.click("#search")
            page.locator("button.open-profile", has_text=customer).click()
            page.wait_for_selector("#customer-id")
            assert page.inner_text(".field-full_name .value") == fields["full_name"]
            for entry in profile["consent"]:
                status = page.inner_text(f".consent-{entry['purpose']} .status")
                assert status == config.label(entry["status"])
            first = page.locator("#timeline tr.event").first.inner_text()
            assert profile["timeline"]["rows"][0]["at"] in first
            page.screenshot(path=str(artefacts / "profile.png"), full_page=True)
            page.click("#open-explain")
            page.wait_for_selector("#explain-title")
            assert customer in page.inner_text("#explain-title")
            assert page.locator(".accepted-pair").count() >= 1
            page.screenshot(path=str(artefacts / "explain.png"), full_page=True)
        finally:
            browser.close()
    return artefacts / "profile.png"


def test_browser_search_profile_and_explanation(generated):
    # `make setup` installs Debian's chromium; without it the test fails rather than skips, so a
    # broken setup cannot pass CI silently.
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: run `make setup` (apt-get install chromium)"
    screenshot = browse(generated[0])
    assert screenshot.stat().st_size > 10_000
