"""The notebooks run top to bottom on this machine (small inputs, same code)."""

import os
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def execute(name, env):
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    previous = {k: os.environ.get(k) for k in env}
    os.environ.update({k: str(v) for k, v in env.items()})
    try:
        NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return notebook


def outputs(notebook):
    return "\n".join(
        str(output.get("text", "")) + str(output.get("data", {}).get("text/plain", ""))
        for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs
    )


def plotting_cells_show_their_figures(notebook):
    """Every cell that draws shows its figure inline (an image/png output), as a reader sees it."""
    drawing = [cell for cell in notebook.cells if cell.cell_type == "code" and "plt.subplots" in cell.source]
    assert drawing
    for cell in drawing:
        assert any("image/png" in output.get("data", {}) for output in cell.outputs), cell.source[:80]
    return len(drawing)


def test_the_committed_notebooks_carry_their_figures():
    """`make notebooks` ran them in place: a reader of the repository sees the figures."""
    for name in ("catalogue.ipynb", "evaluation.ipynb"):
        notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
        assert 'matplotlib.use("Agg")' not in "".join(c.source for c in notebook.cells)
        plotting_cells_show_their_figures(notebook)


def test_the_evaluation_notebook(tmp_path):
    from test_model import LABELS

    import json
    from collections import defaultdict

    taken, keep = defaultdict(int), []
    for line in LABELS.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if taken[row["category"]] < 60:
            taken[row["category"]] += 1
            keep.append(line)
    labels = tmp_path / "labels.jsonl"
    labels.write_text("\n".join(keep) + "\n")
    notebook = execute("evaluation.ipynb", {"MCP_RISK_EVAL_LABELS": labels})
    text = outputs(notebook)
    assert "macro-F1" in text and "rules alone" in text
    assert "expected calibration error" in text
    assert plotting_cells_show_their_figures(notebook) == 2  # the confusion matrix, the reliability diagram
    assert not any(o.get("output_type") == "error" for c in notebook.cells if c.cell_type == "code" for o in c.outputs)


def test_the_catalogue_notebook(sliced_db):
    notebook = execute("catalogue.ipynb", {"MCP_RISK_DB": sliced_db})
    text = outputs(notebook)
    assert "tools from" in text and "critical" in text
    assert "modelcontextprotocol/server-filesystem" in text or "github/github-mcp-server" in text
    assert plotting_cells_show_their_figures(notebook) == 4  # by category, riskiest servers, category share, grades
    assert not any(o.get("output_type") == "error" for c in notebook.cells if c.cell_type == "code" for o in c.outputs)
    # The grade distribution: its plot's numbers, a row per grade.
    last = [c for c in notebook.cells if c.cell_type == "code"][-1]
    shown = "".join(str(o.get("data", {}).get("text/plain", "")) for o in last.outputs)
    assert "GRADES" in last.source and "servers" in shown
    assert [line.split()[0] for line in shown.splitlines()[2:]] == ["A", "B", "C", "D", "F"]
