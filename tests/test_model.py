"""The trained model: a plain-JSON artifact, rebuilt deterministically, measured honestly."""

import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from mcp_risk import classifier
from mcp_risk.classifier.model import LinearModel, default_path
from conftest import run

LABELS = Path(__file__).resolve().parents[1] / "data" / "labels" / "tools_labelled.jsonl"


@pytest.fixture(scope="session")
def small_labels(tmp_path_factory):
    """Up to 70 labelled tools per category, in file order: enough for grouped five-fold CV."""
    taken = defaultdict(int)
    keep = []
    for line in LABELS.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if taken[row["category"]] < 70:
            taken[row["category"]] += 1
            keep.append(line)
    path = tmp_path_factory.mktemp("labels") / "small.jsonl"
    path.write_text("\n".join(keep) + "\n", encoding="utf-8")
    return path


def test_the_bundled_artifact_is_plain_json_and_in_use():
    document = json.loads(default_path().read_text(encoding="utf-8"))
    assert document["format"] == "mcp-risk-linear/1"
    assert set(document["classes"]) == set(classifier.CATEGORIES)
    model = LinearModel(document)
    assert classifier.current_version().endswith("+model-" + model.version)
    result = classifier.classify({"name": "drop_table", "description": "Drop a table from the database"})
    assert result.category == "destructive" and result.version == classifier.current_version()
    assert any(e.startswith("model: p(destructive)") for e in result.evidence)


def test_classifying_imports_no_heavy_library():
    code = ("import sys, classifier; classifier.classify({'name': 'list_files'}); "
            "print(sorted(m for m in ('sklearn', 'numpy', 'pandas', 'scipy', 'pickle', 'joblib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out.replace("'", '"')) == []


def test_training_is_deterministic_and_recorded(small_labels, tmp_path):
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    for out in (first, second):
        result = run("train", "--labels", small_labels, "-o", out)
        assert result.exit_code == 0, result.output
    assert first.read_bytes() == second.read_bytes()
    document = json.loads(first.read_text())
    assert document["trained_on"]["labels"] == "small.jsonl"
    assert f"model {document['version']}" in result.output


def test_a_broken_model_file_is_a_clear_error(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "mcp-risk-linear/1", "version": "x"}')
    completed = subprocess.run([Path(sys.executable).with_name("mcp-risk"), "classify", "-i", "-"], input='{"name": "x"}\n',
                               capture_output=True, text=True, env={"MCP_RISK_MODEL": str(broken), "PATH": ""})
    assert completed.returncode == 1
    assert "broken.json: not a usable classifier model" in completed.stderr and "Traceback" not in completed.stderr


def test_evaluate_reports_every_comparison(small_labels):
    result = run("evaluate", "--labels", small_labels, "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{"):])
    for key in ("model", "rules"):
        assert 0 < report[key]["macro_f1"] <= 1
        assert set(report[key]["per_category"]) == set(classifier.CATEGORIES)
        assert sum(map(sum, report[key]["confusion"])) == report["rows"]
    assert report["unclassified"] == 0
    assert report["annotations"]["theirs"]["rows"] == report["annotations"]["ours"]["rows"]
    assert report["policylayer"]["theirs"]["rows"] == report["policylayer"]["ours"]["rows"]
    assert set(report["flags"]["model"]) == {"open_world", "sends_data_out", "touches_secrets", "filesystem"}


def test_evaluate_text_names_the_grouping(small_labels):
    result = run("evaluate", "--labels", small_labels)
    assert "cross-validation grouped by server" in result.output
    assert "PolicyLayer" in result.output and "rules alone" in result.output
