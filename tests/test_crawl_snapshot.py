"""`mcp-risk crawl snapshot` end to end: what lands in the catalogue, and that re-crawling changes nothing."""

import collections
import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mcp_risk import classifier
from mcp_risk.catalogue.db import open_catalogue
from conftest import run, snapshot_rows, table_rows
from mcp_risk.crawler.sources.snapshot import read_snapshot

DATA_TABLES = ("servers", "server_sources", "tools", "tool_history", "classifications", "tools_fts")


def test_every_tool_of_the_slice_is_stored_and_classified(snapshot_slice, sliced_db):
    manifests = list(read_snapshot(snapshot_slice))
    expected = collections.Counter()
    for manifest in manifests:
        for tool in manifest.tools:
            expected[classifier.classify(tool, server={"name": manifest.name}).category] += 1
    db = sqlite3.connect(sliced_db)
    stored = dict(db.execute("SELECT category, count(*) FROM tool_catalogue GROUP BY category").fetchall())
    assert stored == dict(expected)
    assert sum(stored.values()) == sum(len(m.tools) for m in manifests)
    assert db.execute("SELECT count(*) FROM servers").fetchone()[0] == len(manifests)
    # every tool has a category and a confidence in 0..1, from the classifier version recorded
    assert db.execute(
        "SELECT count(*) FROM tool_catalogue WHERE category IS NULL OR confidence < 0 OR confidence > 1"
    ).fetchone()[0] == 0
    assert {v for (v,) in db.execute("SELECT DISTINCT classifier_version FROM classifications")} == {classifier.current_version()}


def test_the_catalogue_keeps_definitions_whole(sliced_db):
    db = sqlite3.connect(sliced_db)
    schema, annotations = db.execute(
        "SELECT t.input_schema, t.annotations FROM tools t JOIN servers s ON s.id = t.server_id "
        "WHERE s.name = 'github/github-mcp-server' AND t.name = 'actions_get'"
    ).fetchone()
    assert json.loads(schema)["properties"]["method"]["enum"][0] == "get_workflow"
    assert json.loads(annotations)["readOnlyHint"] is True


def test_crawling_twice_adds_nothing_and_changes_nothing(snapshot_slice, fresh_db):
    assert run("crawl", "snapshot", snapshot_slice, "--db", fresh_db).exit_code == 0
    before = {table: table_rows(fresh_db, table) for table in DATA_TABLES}
    result = run("crawl", "snapshot", snapshot_slice, "--db", fresh_db)
    assert result.exit_code == 0
    assert "0 added, 0 changed, 0 removed; 0 classified" in result.output
    after = {table: table_rows(fresh_db, table) for table in DATA_TABLES}
    assert after == before
    runs = sqlite3.connect(fresh_db).execute(
        "SELECT status, tools_added, tools_changed, tools_removed, classified FROM crawl_runs ORDER BY id"
    ).fetchall()
    assert runs[1] == ("ok", 0, 0, 0, 0)
    assert runs[0][0] == "ok" and runs[0][1] > 0


def test_a_changed_definition_is_kept_in_history_and_reclassified(snapshot_slice, fresh_db, tmp_path):
    assert run("crawl", "snapshot", snapshot_slice, "--db", fresh_db).exit_code == 0
    rows = [json.loads(line) for line in snapshot_slice.read_text().splitlines()]
    server = "modelcontextprotocol/server-filesystem"
    changed = []
    for row in rows:
        if row["server"] == server and row["tool"] == "get_file_info":
            row["description"] = "Permanently delete a file. This cannot be undone."
        if not (row["server"] == server and row["tool"] == "move_file"):  # move_file disappears
            changed.append(row)
    second = tmp_path / "second.jsonl"
    second.write_text("".join(json.dumps(r) + "\n" for r in changed))
    result = run("crawl", "snapshot", second, "--db", fresh_db)
    assert "1 changed, 1 removed; 1 classified" in result.output

    db = sqlite3.connect(fresh_db)
    history = db.execute(
        "SELECT h.change, h.definition IS NOT NULL FROM tool_history h JOIN tools t ON t.id = h.tool_id "
        "WHERE t.name = 'get_file_info' AND t.server_id = (SELECT id FROM servers WHERE name = ?) ORDER BY h.id",
        [server],
    ).fetchall()
    assert history == [("added", 1), ("changed", 1)]
    current = db.execute(
        "SELECT category FROM tool_catalogue WHERE server = ? AND tool = 'get_file_info'", [server]
    ).fetchone()
    assert current == ("destructive",)
    removed = db.execute(
        "SELECT status, last_seen IS NOT NULL FROM tools WHERE name = 'move_file' "
        "AND server_id = (SELECT id FROM servers WHERE name = ?)", [server]
    ).fetchone()
    assert removed == ("removed", 1)

    # the removed tool comes back: listed again, history says so, nothing else changes
    result = run("crawl", "snapshot", snapshot_slice, "--db", fresh_db)
    assert "1 changed, 0 removed" in result.output
    assert db.execute("SELECT status, last_seen FROM tools WHERE name = 'move_file' "
                      "AND server_id = (SELECT id FROM servers WHERE name = ?)", [server]).fetchone() == ("listed", None)


def test_the_full_bundled_snapshot_reads_as_documented():
    manifests = list(read_snapshot())
    assert sum(len(m.tools) for m in manifests) == 24071 == len(snapshot_rows())
    assert len(manifests) == 2567


DEFINITIONS = "SELECT id, server_id, name, title, description, input_schema, annotations, hash, status FROM tools"


def test_a_new_classifier_version_classifies_again_without_touching_definitions(snapshot_slice, fresh_db):
    from mcp_risk.catalogue.store import CrawlRun

    assert run("crawl", "snapshot", snapshot_slice, "--db", fresh_db).exit_code == 0
    tools_before = sorted(sqlite3.connect(fresh_db).execute(DEFINITIONS).fetchall())

    def newer(tool, server=None):
        return classifier.classify(tool, server)

    newer.version = "test-newer"
    db = open_catalogue(fresh_db)
    with CrawlRun(db, "snapshot", kind="snapshot", classify=newer) as crawl:
        crawl.store(list(read_snapshot(snapshot_slice)))
    assert crawl.counts.classified == len(tools_before)
    assert sorted(sqlite3.connect(fresh_db).execute(DEFINITIONS).fetchall()) == tools_before
    versions = sqlite3.connect(fresh_db).execute(
        "SELECT DISTINCT classifier_version FROM tool_catalogue").fetchall()
    assert versions == [("test-newer",)]


def test_a_snapshot_crawl_waits_for_no_one_but_refuses_a_held_lock(snapshot_slice, fresh_db):
    from mcp_risk.catalogue.lock import crawl_lock

    with crawl_lock(fresh_db):
        result = run("crawl", "snapshot", snapshot_slice, "--db", fresh_db)
    assert result.exit_code == 5 and "another crawl is writing" in result.output
    assert run("crawl", "snapshot", snapshot_slice, "--db", fresh_db).exit_code == 0


def test_a_server_is_found_by_any_source_s_name_for_it(sliced_db, tmp_path):
    copy = tmp_path / "copy.db"
    db = sqlite3.connect(copy)
    sqlite3.connect(sliced_db).backup(db)  # a whole copy, write-ahead log included
    db.execute("UPDATE server_sources SET source_name = 'io.github.modelcontextprotocol/filesystem' "
               "WHERE server_id = (SELECT id FROM servers WHERE name = 'modelcontextprotocol/server-filesystem')")
    db.commit()
    result = run("show", "io.github.modelcontextprotocol/filesystem", "--format", "json", "--db", copy)
    assert json.loads(result.output)["name"] == "modelcontextprotocol/server-filesystem"


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_snapshot_crawl_stopped_by_a_signal_is_recorded_as_interrupted(tmp_path, signum):
    """Ctrl-C, or SIGTERM as systemd stops a job: exit 130, one line saying so, the run marked."""
    db = tmp_path / "c.db"
    crawl = subprocess.Popen([str(Path(sys.executable).parent / "mcp-risk"), "crawl", "snapshot", "--db", str(db)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not _runs(db):
        time.sleep(0.05)
    assert _runs(db) == ["running"]
    crawl.send_signal(signum)
    out, err = crawl.communicate(timeout=60)
    assert crawl.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err and "Aborted" not in err
    assert _runs(db) == ["interrupted"]


def _runs(db):
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            return [status for (status,) in conn.execute("SELECT status FROM crawl_runs")]
        finally:
            conn.close()
    except sqlite3.Error:
        return []
