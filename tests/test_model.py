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
LIVE = Path(__file__).resolve().parents[1] / "data" / "labels" / "live_labelled.jsonl"


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


@pytest.fixture(scope="session")
def small_live(tmp_path_factory):
    """Every tool of the live-listed servers with at most 35 tools: whole servers, as the
    evaluation groups them."""
    rows = [json.loads(line) for line in LIVE.read_text(encoding="utf-8").splitlines()]
    sizes = defaultdict(int)
    for row in rows:
        sizes[row["server"]] += 1
    keep = [json.dumps(row) for row in rows if sizes[row["server"]] <= 35]
    path = tmp_path_factory.mktemp("labels") / "small_live.jsonl"
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
    code = ("import sys; from mcp_risk import classifier; classifier.classify({'name': 'list_files'}); "
            "print(sorted(m for m in ('sklearn', 'numpy', 'pandas', 'scipy', 'pickle', 'joblib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out.replace("'", '"')) == []


def test_training_is_deterministic_and_recorded(small_labels, small_live, tmp_path):
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    for out in (first, second):
        result = run("train", "--labels", small_labels, "--live-labels", small_live, "-o", out)
        assert result.exit_code == 0, result.output
    assert first.read_bytes() == second.read_bytes()
    document = json.loads(first.read_text())
    assert [t["labels"] for t in document["trained_on"]] == ["small.jsonl", "small_live.jsonl"]
    assert f"model {document['version']}" in result.output
    # What WordNet and the snapshot's words taught ships inside the file: classifying needs nothing new.
    verbs = document["lexicon"]["verbs"]
    assert verbs["deletes"] == ["destructive", "delete", "lemma", True]  # an inflection of a listed verb
    assert verbs["perform"][:3] == ["execute", "perform", "kind of `execute`"]  # a WordNet hypernym
    assert verbs["disassemble"][:3] == ["destructive", "disassemble", "kind of `destroy`"]
    assert len(document["lexicon"]["clusters"]) > 1000


def test_a_broken_model_file_is_a_clear_error(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "mcp-risk-linear/1", "version": "x"}')
    completed = subprocess.run([Path(sys.executable).with_name("mcp-risk"), "classify", "-i", "-"], input='{"name": "x"}\n',
                               capture_output=True, text=True, env={"MCP_RISK_MODEL": str(broken), "PATH": ""})
    assert completed.returncode == 1
    assert "broken.json: not a usable classifier model" in completed.stderr and "Traceback" not in completed.stderr


@pytest.fixture(scope="session")
def small_evaluation(small_labels, small_live):
    result = run("evaluate", "--labels", small_labels, "--live-labels", small_live, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output[result.output.index("{"):])


def test_evaluate_leads_with_the_live_listed_servers(small_evaluation, small_live):
    report = small_evaluation
    assert report["headline"] == "live" and list(report["sets"]) == ["live", "snapshot"]
    live = report["sets"]["live"]
    assert live["rows"] == len(small_live.read_text().splitlines())
    assert report["model"] == live["model"]  # the top-level figures are the headline's


def test_evaluate_reports_every_comparison(small_evaluation):
    for report in small_evaluation["sets"].values():
        for key in ("model", "rules"):
            assert 0 < report[key]["macro_f1"] <= 1
            assert set(report[key]["per_category"]) == set(classifier.CATEGORIES)
            assert sum(map(sum, report[key]["confusion"])) == report["rows"]
            assert set(report[key]["critical"]) == {"recall", "precision", "support"}
        assert report["unclassified"] == 0
        assert 0 <= report["calibration_error"] < 1 and report["reliability"]
        assert report["annotations"]["theirs"]["rows"] == report["annotations"]["ours"]["rows"]
        assert report["policylayer"]["theirs"]["rows"] == report["policylayer"]["ours"]["rows"]
        assert set(report["flags"]["model"]) == set(classifier.FLAGS)
        assert report["worst_errors"] and all(e["label"] != e["predicted"] for e in report["worst_errors"])
    # The live labels judge the two newer flags; the snapshot labels do not.
    assert small_evaluation["sets"]["live"]["flags"]["model"]["private_data"]["support"] > 0
    assert small_evaluation["sets"]["snapshot"]["flags"]["model"]["private_data"]["support"] == 0


def test_evaluate_text_names_the_grouping(small_labels, small_live):
    result = run("evaluate", "--labels", small_labels, "--live-labels", small_live)
    assert "cross-validation grouped by server" in result.output
    assert result.output.index("Live-listed tools") < result.output.index("Snapshot labels")
    assert "PolicyLayer" in result.output and "rules alone" in result.output and "critical recall" in result.output
