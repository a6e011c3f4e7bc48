"""The notebooks run clean, in the venv's kernel, on a small lakehouse built by the pipeline."""

import os
import re
import sys
from datetime import date, timedelta
from pathlib import Path

import nbformat
import pytest
from deltalake import DeltaTable
from nbclient import NotebookClient

from pipelines.runner import build_feature_snapshots

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
MATCHING_QUALITY = NOTEBOOKS / "matching_quality.ipynb"
FEATURE_STORE = NOTEBOOKS / "feature_store.ipynb"
# A past snapshot whose 30-day label window (2026-10-01 .. 2026-10-30) lies before the last
# landing day (2026-11-02); the daily snapshot is as of 2026-11-03.
PAST_AS_OF = date(2026, 10, 1)
LATEST_AS_OF = date(2026, 11, 3)


def _outputs_text(notebook: nbformat.NotebookNode) -> str:
    """Everything the cells printed or displayed, as one string."""
    parts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", ""))
            for mime in ("text/plain", "text/html", "text/markdown"):
                parts.append(output.get("data", {}).get(mime, ""))
    return "\n".join(parts)


def _figure(pattern: str, text: str) -> str:
    found = re.search(pattern, text, re.MULTILINE)
    assert found, f"no line matching {pattern!r} in the notebook's output"
    return found.group(1)


@pytest.fixture(scope="module")
def pipeline_lake(pipeline_run, tmp_path_factory) -> tuple[Path, Path, dict]:
    """A copy of the shared 300-person run's lakehouse (tests/conftest.py), with its truth."""
    lake_root = pipeline_run.copy_lake(tmp_path_factory.mktemp("notebooks") / "lake")
    identity = next(
        asset.metadata
        for stage in pipeline_run.summary.stages
        for asset in stage.assets
        if asset.asset == "gold/identity_map"
    )
    return lake_root, pipeline_run.truth, identity


@pytest.mark.parametrize(
    ("path", "variables"),
    [
        (MATCHING_QUALITY, ["C360_LAKEHOUSE", "C360_TRUTH"]),
        (FEATURE_STORE, ["C360_LAKEHOUSE", "C360_AS_OF"]),
    ],
    ids=lambda value: value.stem if isinstance(value, Path) else None,
)
def test_committed_notebook_has_parameters_and_no_outputs(path: Path, variables: list[str]):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    tagged = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    assert all(variable in tagged[0].source for variable in variables)
    code_cells = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code_cells)


def _execute(path: Path, variables: dict[str, str], tmp_path: Path) -> str:
    """Run the notebook in this venv's kernel with ``variables`` set; what it printed."""
    notebook = nbformat.read(path, as_version=4)
    env = {**os.environ, **variables, "IPYTHONDIR": str(tmp_path / "ipython")}
    client = NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=300,
        resources={"metadata": {"path": str(tmp_path)}},  # the kernel's working directory
    )
    client.execute(env=env)  # raises CellExecutionError on the first failing cell
    errors = [o for c in notebook.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors == []
    return _outputs_text(notebook)


@pytest.mark.spark
@pytest.mark.slow
def test_matching_quality_notebook_runs_clean(pipeline_lake, tmp_path):
    lake_root, truth_root, identity = pipeline_lake
    variables = {"C360_LAKEHOUSE": str(lake_root), "C360_TRUTH": str(truth_root)}
    text = _execute(MATCHING_QUALITY, variables, tmp_path)

    # the kernel is this venv's interpreter and it read the lakehouse the env vars name
    assert f"python: {sys.executable}\n" in text
    assert f"lakehouse: {lake_root}\n" in text
    identity_map = DeltaTable(str(lake_root / "gold" / "identity_map")).to_pandas()
    assert int(_figure(r"^gold\.identity_map\s+([\d,]+) rows", text).replace(",", "")) == len(
        identity_map
    )

    # metrics computed in the notebook equal those the identity asset recorded for the run
    f1 = float(_figure(r"^F1: (\d\.\d{4})$", text))
    assert f1 >= 0.9  # the generator's noise at 300 people: the matcher reaches ~0.99
    assert f1 == round(identity["match_f1"], 4)
    assert int(_figure(r"^persons split: (\d+)$", text)) == identity["match_persons_split"]

    # merged customers are shown, with phone, email and national ID masked
    merged = identity_map.groupby("customer_id").size()
    shown = int(_figure(r"^customers with more than one record: ([\d,]+)$", text).replace(",", ""))
    assert shown == int((merged > 1).sum()) > 0
    assert "***@" in text and "**********" in text
    records = DeltaTable(str(lake_root / "silver" / "person_records")).to_pandas()
    for column in ("phone_e164", "email", "national_id"):
        leaked = [v for v in records[column].dropna().unique() if v in text]
        assert leaked == [], column

    # the Splink charts of the run are listed with their paths
    chart = Path(_figure(r"^chart match_weights: (.+)$", text))
    assert chart.is_file() and chart.is_relative_to(lake_root / "_reports")


def _count(pattern: str, text: str) -> int:
    return int(_figure(pattern, text).replace(",", ""))


@pytest.fixture(scope="module")
def past_snapshot(pipeline_lake, pipeline_run) -> date:
    """The pipeline lakehouse plus the feature snapshot as of PAST_AS_OF."""
    lake_root = pipeline_lake[0]
    overrides = {"raw_root": str(pipeline_run.raw), "lakehouse_root": str(lake_root)}
    build_feature_snapshots(overrides, [PAST_AS_OF])
    return PAST_AS_OF


@pytest.mark.spark
@pytest.mark.slow
def test_feature_store_notebook_builds_a_point_in_time_training_set(
    pipeline_lake, past_snapshot, tmp_path
):
    lake_root = pipeline_lake[0]
    text = _execute(FEATURE_STORE, {"C360_LAKEHOUSE": str(lake_root)}, tmp_path)
    assert f"python: {sys.executable}\n" in text
    assert f"lakehouse: {lake_root}\n" in text
    assert f"snapshots: {past_snapshot}, {LATEST_AS_OF}\n" in text

    # the catalog documents every feature column, read alike by pandas and polars
    features = DeltaTable(str(lake_root / "gold" / "customer_features"))
    keys = {"customer_id", "as_of_date"}
    feature_columns = [f.name for f in features.schema().fields if f.name not in keys]
    catalog = DeltaTable(str(lake_root / "gold" / "feature_catalog")).to_pandas()
    assert _count(r"^catalog rows: ([\d,]+) \(pandas\)", text) == len(catalog)
    assert _count(r"^catalog rows: [\d,]+ \(pandas\) / ([\d,]+) \(polars\)$", text) == len(catalog)
    assert _count(r"^feature columns in gold\.customer_features: ([\d,]+)$", text) == len(catalog)
    assert len(catalog) == len(feature_columns) > 1500
    assert "every column documented: True\n" in text
    spend = catalog[
        (catalog.measure == "amount_sum")
        & (catalog.window_days == 30)
        & catalog.slice.fillna("").str.startswith("channel=")
    ]
    assert _count(r"^spend over 30 days by channel: (\d+) features$", text) == len(spend) > 0

    # the training set: the past snapshot's customers, one row each, read from its files only
    assert f"training as of: {past_snapshot}\n" in text
    assert "label window fully landed: True\n" in text
    partition = [("as_of_date", "=", past_snapshot.isoformat())]
    snapshot = features.to_pandas(partitions=partition, columns=["customer_id", "tx_count_life"])
    assert _count(r"^training rows: ([\d,]+) ", text) == len(snapshot) > 0
    assert _count(r"customers in the snapshot: ([\d,]+)\)$", text) == len(snapshot)
    assert "one row per customer: True\n" in text
    assert "pandas and polars read the same snapshot: True\n" in text
    files_read = re.search(r"\((\d+) of (\d+) files\)", text)
    assert files_read and 0 < int(files_read.group(1)) < int(files_read.group(2))

    # the label, recomputed: snapshot customers with a completed purchase in D .. D+29
    identity_map = DeltaTable(str(lake_root / "gold" / "identity_map")).to_pandas()
    identity_map["record_key"] = identity_map.source_system + ":" + identity_map.source_record_id
    sales = DeltaTable(str(lake_root / "silver" / "transactions")).to_pandas()
    label_end = past_snapshot + timedelta(days=30)
    in_window = sales[
        (sales.status.str.lower() == "completed")
        & (sales.transaction_date >= past_snapshot)
        & (sales.transaction_date < label_end)
    ].merge(identity_map[["record_key", "customer_id"]], on="record_key")
    buyers = set(in_window.customer_id) & set(snapshot.customer_id)
    assert _count(r"^label positives: ([\d,]+)$", text) == len(buyers) > 0
    assert _count(r"^label negatives: ([\d,]+)$", text) == len(snapshot) - len(buyers)

    # point in time: every count matches the purchases before D; the window's buyers would not
    matches = _count(r"purchases dated before \S+: ([\d,]+) of [\d,]+ customers$", text)
    audited = _count(r"purchases dated before \S+: [\d,]+ of ([\d,]+) customers$", text)
    assert matches == audited == len(snapshot)
    recency = re.search(r"last purchase before \S+: ([\d,]+) of ([\d,]+) customers", text)
    assert recency and recency.group(1) == recency.group(2)
    assert int(recency.group(2).replace(",", "")) == int((snapshot.tx_count_life > 0).sum())
    assert _count(r"^smallest days since the last purchase: (\d+) ", text) >= 1
    assert _count(r"had the label window leaked in: ([\d,]+)$", text) == len(buyers)
