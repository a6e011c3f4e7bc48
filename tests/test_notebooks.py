"""The notebooks run clean, in the venv's kernel, on a small lakehouse built by the pipeline."""

import os
import re
import sys
from datetime import date
from pathlib import Path

import nbformat
import pytest
from deltalake import DeltaTable
from nbclient import NotebookClient

from c360.sample import GeneratorConfig, generate_landing_zone, load_noise_config
from pipelines.runner import run_pipeline

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
MATCHING_QUALITY = NOTEBOOKS / "matching_quality.ipynb"


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
def pipeline_lake(tmp_path_factory, spark) -> tuple[Path, Path, dict]:
    """300 people over 2 days through every stage (as in test_pipeline_e2e), with truth."""
    root = tmp_path_factory.mktemp("notebooks")
    config = GeneratorConfig(
        people=300, days=2, start=date(2026, 11, 1), seed=11, noise=load_noise_config(),
        history_days=60,
    )  # fmt: skip
    generate_landing_zone(config, root / "raw", root / "truth")
    overrides = {
        "raw_root": str(root / "raw"),
        "lakehouse_root": str(root / "lake"),
        "truth_root": str(root / "truth"),
    }
    summary = run_pipeline(overrides)
    identity = next(
        asset.metadata
        for stage in summary.stages
        for asset in stage.assets
        if asset.asset == "gold/identity_map"
    )
    return root / "lake", root / "truth", identity


def test_committed_notebook_has_parameters_and_no_outputs():
    notebook = nbformat.read(MATCHING_QUALITY, as_version=4)
    nbformat.validate(notebook)
    tagged = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    assert "C360_LAKEHOUSE" in tagged[0].source and "C360_TRUTH" in tagged[0].source
    code_cells = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code_cells)


@pytest.mark.spark
@pytest.mark.slow
def test_matching_quality_notebook_runs_clean(pipeline_lake, tmp_path):
    lake_root, truth_root, identity = pipeline_lake
    notebook = nbformat.read(MATCHING_QUALITY, as_version=4)
    env = {
        **os.environ,
        "C360_LAKEHOUSE": str(lake_root),
        "C360_TRUTH": str(truth_root),
        "IPYTHONDIR": str(tmp_path / "ipython"),
    }
    client = NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=300,
        resources={"metadata": {"path": str(tmp_path)}},  # the kernel's working directory
    )
    client.execute(env=env)  # raises CellExecutionError on the first failing cell
    errors = [o for c in notebook.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors == []
    text = _outputs_text(notebook)

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
