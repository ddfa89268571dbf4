"""mcp-risk installs under one importable name, `mcp_risk`, and lives beside PyPI's `catalogue`."""

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Every module of the package imports in a fresh interpreter run outside the repository (so the
# source folders are not on sys.path), and none leaves a top-level `crawler`, `classifier`,
# `catalogue`, `policies` or `cli` behind: an absolute import of one of them would break, or worse,
# load another distribution's module of that name.
_WALK = """
import importlib, pkgutil, sys
import mcp_risk
names = []
for part in ("crawler", "classifier", "catalogue", "policies", "cli"):
    package = importlib.import_module("mcp_risk." + part)
    names.append(package.__name__)
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        importlib.import_module(info.name)
        names.append(info.name)
stray = sorted(n for n in ("crawler", "classifier", "catalogue", "policies", "cli") if n in sys.modules)
print(len(names), stray)
"""


def test_every_module_imports_under_mcp_risk_alone(tmp_path):
    completed = subprocess.run([sys.executable, "-c", _WALK], cwd=tmp_path, capture_output=True, text=True,
                               timeout=120)
    assert completed.returncode == 0, completed.stderr
    count, stray = completed.stdout.split(" ", 1)
    assert int(count) > 40
    assert stray.strip() == "[]"


@pytest.mark.timeout(600)
def test_wheel_installs_beside_pypi_catalogue(tmp_path):
    """A wheel built from the source installs into a fresh venv next to `catalogue` (which spaCy and
    thinc depend on), and both work there."""
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(wheels), str(ROOT)],
                   check=True, capture_output=True, timeout=300)
    wheel = next(wheels.glob("mcp_risk-*.whl"))
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "--quiet", str(wheel), "catalogue==2.0.10"],
                   check=True, capture_output=True, timeout=500)
    work = tmp_path / "elsewhere"  # not the repository: its folders must not shadow anything
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MCP_RISK_MODEL")}

    def run(*args, stdin=None):
        completed = subprocess.run(args, cwd=work, input=stdin, capture_output=True, text=True, env=env, timeout=120)
        assert completed.returncode == 0, completed.stderr
        return completed.stdout

    assert run(env_dir / "bin" / "mcp-risk", "--version").startswith("mcp-risk, version ")
    out = run(env_dir / "bin" / "mcp-risk", "classify", "-i", "-",
              stdin='{"name": "delete_repository", "description": "Delete a repository"}\n')
    assert '"category": "destructive"' in out
    assert "model: p(destructive)" in out  # the model ships inside the wheel
    # PyPI's catalogue (2.0.10) names its registries `catalogue.create(...)` / `catalogue.Registry`
    assert run(python, "-c", "import catalogue; r = catalogue.create('mcp_risk_test'); "
                             "print(isinstance(r, catalogue.Registry))").strip() == "True"
    assert run(python, "-c", "import catalogue, mcp_risk.catalogue as ours; print(catalogue.__file__ != ours.__file__)"
               ).strip() == "True"
