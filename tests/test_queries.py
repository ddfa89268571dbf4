"""search, show and stats: for people (tables) and for scripts (json, csv)."""

import csv
import io
import json

from conftest import run


def test_search_ranks_full_text_matches(sliced_db):
    result = run("search", "delete file", "--format", "json", "--db", sliced_db)
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert rows, result.output
    assert rows[0]["tool"] in ("delete_file",) or "delete" in rows[0]["tool"]
    assert all("delet" in (r["tool"] + (r["description"] or "")).lower() for r in rows)


def test_search_filters(sliced_db):
    result = run("search", "--category", "destructive", "--format", "json", "--limit", "500", "--db", sliced_db)
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert rows and {r["category"] for r in rows} == {"destructive"}
    result = run("search", "--server", "github/github-mcp-server", "--risk", "low", "--format", "json", "--db", sliced_db)
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert rows and {(r["server"], r["risk"]) for r in rows} == {("github/github-mcp-server", "low")}


def test_search_without_text_lists_the_riskiest_then_the_surest(sliced_db):
    from mcp_risk.classifier.taxonomy import SEVERITY

    for options in ([], ["--category", "read"], ["--server", "github/github-mcp-server"]):
        result = run("search", *options, "--format", "json", "--limit", "400", "--db", sliced_db)
        rows = [json.loads(line) for line in result.output.splitlines()]
        keys = [(-SEVERITY[r["category"]], -r["confidence"]) for r in rows]
        assert len(rows) > 20 and keys == sorted(keys), options
        assert len({r["confidence"] for r in rows}) > 1, options  # there was something to order


def test_search_text_is_words_not_syntax(sliced_db):
    for text in ['"unbalanced', "AND OR NOT", "tool*", "col:umn", "'; DROP TABLE tools; --"]:
        result = run("search", text, "--db", sliced_db)
        assert result.exit_code == 0, (text, result.output)


def test_show_as_table_json_and_csv(sliced_db):
    table = run("show", "modelcontextprotocol/server-filesystem", "--db", sliced_db).output
    assert "write_file" in table and "destructive" in table and "sources: snapshot" in table
    record = json.loads(run("show", "modelcontextprotocol/server-filesystem", "--format", "json", "--db", sliced_db).output)
    assert record["categories"]["destructive"] >= 1
    assert {t["tool"] for t in record["tools"]} >= {"read_text_file", "write_file"}
    rows = list(csv.DictReader(io.StringIO(run("show", "github/github-mcp-server", "--format", "csv", "--db", sliced_db).output)))
    assert len(rows) > 50 and set(rows[0]) == {"tool", "category", "risk", "confidence", "flags", "evidence"}


def test_stats(sliced_db):
    stats = json.loads(run("stats", "--format", "json", "--db", sliced_db).output)
    assert stats["tools"] == sum(stats["categories"].values()) == sum(stats["risks"].values())
    assert stats["crawls"][0]["source"] == "snapshot" and stats["crawls"][0]["status"] == "ok"
    assert "category" in run("stats", "--db", sliced_db).output


def test_a_reader_that_stops_early_is_not_an_error(sliced_db):
    import subprocess
    import sys
    from pathlib import Path

    script = Path(sys.executable).with_name("mcp-risk")
    pipeline = subprocess.run(f"'{script}' search --limit 5000 --format json --db '{sliced_db}' | head -n 1",
                              shell=True, capture_output=True, text=True, timeout=60)
    assert pipeline.stdout.count("\n") == 1
    assert pipeline.stderr == ""  # no "Error: Broken pipe", no traceback
