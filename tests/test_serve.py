"""`mcp-risk serve`: the catalogue in Datasette, opened in headless Chromium like a person would."""

import urllib.request

import pytest

from conftest import chromium_dom, serving

FS = "modelcontextprotocol/server-filesystem"


@pytest.fixture(scope="module")
def served(sliced_db):
    with serving(sliced_db) as server:
        yield server


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


def test_grades_in_datasette(served):
    import json

    base, name = served
    with urllib.request.urlopen(f"{base}/{name}/servers.json?_facet=grade&_size=0", timeout=30) as response:
        facets = json.load(response)["facet_results"]
    results = facets["results"] if "results" in facets else facets
    counted = {r["value"]: r["count"] for r in results["grade"]["results"]}
    assert counted and set(counted) <= {"A", "B", "C", "D", "F"}
    with urllib.request.urlopen(f"{base}/{name}/grade_f_servers.json?_shape=array", timeout=30) as response:
        f_rows = json.load(response)
    assert len(f_rows) == counted.get("F", 0)
    assert all(json.loads(r["reasons"])[0]["grade"] == "F" for r in f_rows)
    with urllib.request.urlopen(f"{base}/{name}/servers_with_a_toxic_flow.json?_shape=array", timeout=30) as response:
        flows = json.load(response)
    assert all(r["toxic_flows"] == len(json.loads(r["flows"])) > 0 and r["grade"] == "F" for r in flows)
    assert any(r["server"] == "github/github-mcp-server" for r in flows)
