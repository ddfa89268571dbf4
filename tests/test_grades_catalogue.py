"""Grades in the catalogue: stored per server with history, recomputed by crawls, shown by the CLI,
and a grade that worsens in a later crawl visible in `mcp-risk diff`."""

import json
import sqlite3

import pytest

from conftest import run
from test_diff import rewrite

from mcp_risk.catalogue.db import SCHEMA_VERSION, open_catalogue
from mcp_risk.catalogue.queries import server_tools
from mcp_risk.classifier.grades import grade_server

FS = "modelcontextprotocol/server-filesystem"


@pytest.fixture
def crawled(snapshot_slice, fresh_db):
    assert run("crawl", "snapshot", snapshot_slice, "--db", fresh_db).exit_code == 0
    return fresh_db


def stored(db_path):
    conn = sqlite3.connect(db_path)
    try:
        return (conn.execute("SELECT name, grade, grade_reasons, grade_flows FROM servers ORDER BY name").fetchall(),
                conn.execute("SELECT count(*) FROM server_grades").fetchone()[0])
    finally:
        conn.close()


def test_every_listed_server_is_graded_as_the_library_grades_it(crawled):
    db = open_catalogue(crawled, create=False)
    rows, history = stored(crawled)
    assert history == len(rows) and all(grade for _, grade, _, _ in rows)
    for name, grade, reasons, flows in rows:
        tools = server_tools(db, name)
        expected = grade_server(tools, name)
        assert grade == expected.grade
        assert json.loads(reasons) == [r.as_dict() for r in expected.reasons]
        assert json.loads(flows) == [f.as_dict() for f in expected.flows]


def test_crawling_the_same_data_again_changes_no_grade(crawled, snapshot_slice):
    before = stored(crawled)
    assert run("crawl", "snapshot", snapshot_slice, "--db", crawled).exit_code == 0
    assert stored(crawled) == before


def mild_server(db_path):
    """A server of the slice graded A or B, and its first tool."""
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(
            "SELECT s.name, min(t.name), s.grade FROM servers s JOIN tools t ON t.server_id = s.id "
            "WHERE s.grade IN ('A', 'B') GROUP BY s.id ORDER BY s.name LIMIT 1").fetchone()
    finally:
        conn.close()


def test_a_tool_that_turns_destructive_worsens_the_grade_and_diff_shows_it(crawled, snapshot_slice, tmp_path):
    server, tool, grade = mild_server(crawled)
    first_run = sqlite3.connect(crawled).execute("SELECT max(id) FROM crawl_runs").fetchone()[0]

    def turn(rows):
        for row in rows:
            if row["server"] == server and row["tool"] == tool:
                row["description"] = "Permanently delete every record of the account; this cannot be undone."
        return rows

    assert run("crawl", "snapshot", rewrite(snapshot_slice, tmp_path, turn), "--db", crawled).exit_code == 0
    shown = json.loads(run("grade", server, "--format", "json", "--db", crawled).output)
    assert shown["grade"] == "D"
    assert any(r["grade"] == "D" and tool in r["tools"] for r in shown["reasons"])

    result = run("diff", "--since", first_run, "--server", server, "--format", "json", "--db", crawled)
    rows = [json.loads(line) for line in result.output.splitlines()]
    graded = [r for r in rows if r["change"] == "grade"]
    assert len(graded) == 1 and (graded[0]["grade_before"], graded[0]["grade"]) == (grade, "D")
    assert graded[0]["risk"] is None and graded[0]["tool"] is None  # a grade is not a tool's risk
    assert f"grade worse {grade} -> D" in graded[0]["note"] and tool in graded[0]["note"]
    table = run("diff", "--since", first_run, "--server", server, "--db", crawled).output
    assert "grade worse" in table


def test_an_older_catalogue_is_migrated_and_graded(crawled):
    conn = sqlite3.connect(crawled)
    expected = conn.execute("SELECT name, grade FROM servers ORDER BY name").fetchall()
    conn.execute("DROP TABLE server_grades")
    conn.execute("DROP INDEX IF EXISTS idx_servers_grade")
    for column in ("grade", "grade_reasons", "grade_flows", "toxic_flows", "graded_with"):
        conn.execute(f"ALTER TABLE servers DROP COLUMN {column}")
    conn.execute("PRAGMA user_version = 4")  # main's schema 4, before grades
    conn.commit()
    conn.close()
    open_catalogue(crawled).close()
    conn = sqlite3.connect(crawled)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("SELECT name, grade FROM servers ORDER BY name").fetchall() == expected
    conn.close()


def test_grade_command_formats_and_filters(crawled):
    rows = [json.loads(line) for line in run("grade", "--format", "json", "--db", crawled).output.splitlines()]
    assert rows and all(set(r) == {"server", "grade", "reasons", "flows"} for r in rows)
    for row in rows:
        assert all(r["tools"] for r in row["reasons"])
        assert all(set(f) == {"untrusted", "private", "out"} for f in row["flows"])
    fs = json.loads(run("grade", FS, "--format", "json", "--db", crawled).output)
    assert fs["grade"] == "D" and fs["reasons"][0]["tools"] == ["write_file"]
    csv = run("grade", FS, "--format", "csv", "--db", crawled).output.splitlines()
    assert csv[0] == "server,grade,reasons,flows" and csv[1].startswith(f"{FS},D,")
    table = run("grade", FS, "--db", crawled).output
    assert table.splitlines()[0] == f"{FS}  grade D" and "write_file" in table
    only_d = [json.loads(line) for line in run("grade", "--grade", "D", "--format", "json", "--db", crawled).output.splitlines()]
    assert only_d and {r["grade"] for r in only_d} == {"D"}
    missing = run("grade", "no/such-server", "--db", crawled)
    assert missing.exit_code == 1 and "no server named" in missing.output


def test_show_opens_with_the_grade_and_search_and_stats_filter_by_it(crawled):
    shown = run("show", FS, "--db", crawled).output.splitlines()
    assert shown[0] == "grade D" and shown[1].split() == ["D", "can", "lose", "data", "for", "good:", "write_file"]
    counts = json.loads(run("stats", "--format", "json", "--db", crawled).output)
    assert sum(counts["grades"].values()) == counts["servers"]
    only = json.loads(run("stats", "--grade", "D", "--format", "json", "--db", crawled).output)
    assert only["servers"] == counts["grades"]["D"] and only["grades"]["D"] == only["servers"]
    assert 0 < only["tools"] < counts["tools"]
    found = [json.loads(line) for line in run("search", "--grade", "D", "--limit", "1000", "--format", "json",
                                              "--db", crawled).output.splitlines()]
    graded = {r["server"]: r["grade"] for r in map(json.loads, run("grade", "--format", "json", "--db", crawled).output.splitlines())}
    assert found and {graded[r["server"]] for r in found} == {"D"}
    assert len(found) == only["tools"]
    text = [json.loads(line) for line in run("search", "file", "--grade", "D", "--format", "json", "--db", crawled).output.splitlines()]
    assert any(r["server"] == FS for r in text) and {graded[r["server"]] for r in text} == {"D"}
