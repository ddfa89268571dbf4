"""`mcp-risk serve`: the catalogue in Datasette, opened in headless Chromium like a person would."""

import urllib.error
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


def test_the_home_page_leads_with_tools_by_risk_and_the_canned_queries(served, tmp_path):
    base, name = served
    dom = chromium_dom(base + "/", tmp_path)
    browse, queries, tables = dom.find("Tools by risk"), dom.find("Canned queries"), dom.find("All tables")
    assert -1 < browse < queries < tables, "the view and the queries come before the raw tables"
    assert 'name="_search"' in dom
    for title in ("Critical tools per server", "Servers by risk", "Recently changed tools", "Tools of a server"):
        assert queries < dom.find(title) < tables, title


def test_tools_by_risk_is_searchable_riskiest_first_with_top_evidence(served, tmp_path):
    base, name = served
    dom = chromium_dom(f"{base}/{name}/tools_by_risk?_search=delete+repository", tmp_path)
    header = dom[dom.find("<thead"):dom.find("</thead>")]
    positions = [header.find(f">{column}<") for column in ("tool", "server", "category", "risk", "flags",
                                                           "confidence", "top_evidence")]
    assert all(p > -1 for p in positions) and positions == sorted(positions), positions
    assert "delete_repository" in dom and "name verb `delete`" in dom
    assert "read_text_file" not in dom  # the search filtered: not every tool
    import json

    def rows(query):
        with urllib.request.urlopen(f"{base}/{name}/tools_by_risk.json?_shape=array&{query}", timeout=30) as response:
            return json.load(response)

    found = rows("_search=write+file")
    assert found and all("writ" in (r["tool"] + (r["description"] or "") + r["category"]).lower() for r in found)
    assert found[0]["tool"] == "write_file"  # the riskiest match first
    first = rows("_size=200")
    order = {"critical": 3, "high": 2, "medium": 1, "low": 0}
    keys = [(-order[r["risk"]], -r["confidence"]) for r in first]
    assert keys == sorted(keys), "riskiest first, then the surest"


def test_the_tools_table_is_not_what_the_home_page_offers(served, tmp_path):
    base, name = served
    dom = chromium_dom(base + "/", tmp_path)
    # input_schema-first raw definitions stay reachable, but are not a headline
    assert "/tools_by_risk" in dom and f'/{name}/tools"' not in dom


def test_servers_by_risk_lists_every_server_and_explains_its_columns(served, tmp_path, sliced_db):
    import sqlite3

    base, name = served
    count = sqlite3.connect(sliced_db).execute(
        "SELECT count(DISTINCT server_id) FROM tools WHERE status = 'listed'").fetchone()[0]
    import json

    with urllib.request.urlopen(f"{base}/{name}/servers_by_risk.json?_shape=array", timeout=30) as response:
        assert len(json.load(response)) == count
    dom = chromium_dom(f"{base}/{name}/servers_by_risk", tmp_path)
    assert "Every server (no cap)" in dom and "mean_risk, the average" in dom


def test_a_sort_by_no_such_column_is_the_request_s_fault(served):
    base, name = served
    for query in ("tool_catalogue?_sort=nosuch", "tools.json?_sort_desc=nosuch"):
        with pytest.raises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(f"{base}/{name}/{query}", timeout=30)
        assert error.value.code == 400 and b"Cannot sort table by nosuch" in error.value.read()  # was a 500
    with urllib.request.urlopen(f"{base}/{name}/tools.json?_sort=name&_size=1", timeout=30) as response:
        assert response.status == 200


def test_tools_by_risk_offers_its_facets_and_suggests_no_others(served):
    # Suggesting facets tried every column of the view: a second on the snapshot, for nothing asked.
    import json

    base, name = served
    with urllib.request.urlopen(f"{base}/{name}/tools_by_risk.json?_extra=suggested_facets,facet_results",
                                timeout=30) as response:
        page = json.load(response)
    assert page["suggested_facets"] == []
    assert {"category", "risk", "flags"} <= set(page["facet_results"])  # flags faceted as an array
