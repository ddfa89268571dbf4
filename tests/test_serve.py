"""`mcp-risk serve`: the catalogue in Datasette, opened in headless Chromium like a person would."""

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

FS = "modelcontextprotocol/server-filesystem"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def served(sliced_db):
    port = free_port()
    script = Path(sys.executable).with_name("mcp-risk")
    process = subprocess.Popen([script, "serve", "--port", str(port), "--db", sliced_db],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/-/versions.json", timeout=1)
                break
            except OSError:
                if process.poll() is not None:
                    raise AssertionError(process.stdout.read().decode())
                time.sleep(0.1)
        else:
            raise AssertionError("Datasette did not start")
        yield base, Path(sliced_db).stem
    finally:
        process.terminate()
        process.wait(10)


def chromium_dom(url, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    assert browser, "Chromium is needed: `make test` installs it (apt-get install chromium)"
    completed = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", url],
        capture_output=True, text=True, timeout=120,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    return completed.stdout


def test_a_faceted_page_renders_real_rows(served, tmp_path):
    base, name = served
    url = f"{base}/{name}/tool_catalogue?server={FS.replace('/', '%2F')}&_facet=category&_facet=risk"
    dom = chromium_dom(url, tmp_path)
    assert "Tools with their classification" in dom
    assert 'class="facet-info' in dom or "facet-results" in dom
    assert "destructive" in dom and "write_file" in dom and "read_text_file" in dom


def test_canned_queries_answer(served):
    base, name = served
    import json

    for query in ("critical_tools_per_server", "servers_by_risk", "recently_changed_tools"):
        with urllib.request.urlopen(f"{base}/{name}/{query}.json?_shape=array", timeout=30) as response:
            rows = json.load(response)
        assert isinstance(rows, list), query
    with urllib.request.urlopen(f"{base}/{name}/servers_by_risk.json?_shape=array", timeout=30) as response:
        rows = json.load(response)
    assert any(r["server"] == FS and r["critical"] >= 1 for r in rows)
    with urllib.request.urlopen(f"{base}/{name}/tools_of_a_server.json?_shape=array&server={FS.replace('/', '%2F')}",
                                timeout=30) as response:
        assert {r["tool"] for r in json.load(response)} >= {"write_file", "read_text_file"}


def test_serve_refuses_a_missing_catalogue(tmp_path):
    from conftest import run

    result = run("serve", "--db", tmp_path / "nothing.db")
    assert result.exit_code == 1 and "no catalogue at" in result.output
