"""Bad input: a one-line error naming what and where, a non-zero exit, and the catalogue as it was."""

import json

import pytest

from conftest import run, table_rows


def error_line(result):
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines and lines[-1].startswith("Error: "), result.output
    assert "Traceback" not in result.output
    return lines[-1]


@pytest.fixture
def crawled(snapshot_slice, fresh_db):
    assert run("crawl", "snapshot", snapshot_slice, "--db", fresh_db).exit_code == 0
    return fresh_db


def catalogue_state(db):
    return {t: table_rows(db, t) for t in ("servers", "tools", "tool_history", "classifications", "crawl_runs", "sources")}


@pytest.mark.parametrize(
    "bad_line, says",
    [
        ("{not json", "not valid JSON"),
        ('["a list"]', "a JSON array, but a snapshot is JSON lines"),
        ('"a string"', "expected a JSON object, got str"),
        ('{"tool": "x", "description": "no server"}', 'row has no "server"'),
        ('{"server": "s", "description": "no name"}', 'tool has no "name"'),
        ('{"server": "s", "tool": "x", "input_schema": "not an object"}', '"inputSchema" must be an object'),
    ],
)
def test_a_bad_snapshot_line_changes_nothing(crawled, snapshot_slice, tmp_path, bad_line, says):
    good = snapshot_slice.read_text().splitlines()
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(good[:5] + [bad_line] + good[5:]) + "\n")
    before = catalogue_state(crawled)
    result = run("crawl", "snapshot", bad, "--db", crawled)
    assert result.exit_code == 1
    line = error_line(result)
    assert f"{bad}:6:" in line and says in line
    assert catalogue_state(crawled) == before


def test_a_bad_snapshot_creates_no_catalogue(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{oops\n")
    db = tmp_path / "new.db"
    result = run("crawl", "snapshot", bad, "--db", db)
    assert result.exit_code == 1 and "bad.jsonl:1" in error_line(result)
    assert not db.exists()


@pytest.mark.parametrize("path_kind", ["missing", "directory", "binary"])
def test_an_unreadable_snapshot_is_named(tmp_path, path_kind):
    path = tmp_path / "input"
    if path_kind == "directory":
        path.mkdir()
    elif path_kind == "binary":
        path.write_bytes(b"\xff\xfe\x00garbage\x80")
    result = run("crawl", "snapshot", path, "--db", tmp_path / "c.db")
    assert result.exit_code != 0
    assert str(path) in result.output


@pytest.mark.parametrize("command", [["show"], ["policy"], ["search", "x", "--server"]])
def test_an_unknown_server_is_an_error(crawled, command):
    result = run(*command, "no/such-server", "--db", crawled)
    assert result.exit_code == 1
    assert "no server named 'no/such-server'" in error_line(result)


def test_a_near_miss_suggests_the_real_name(crawled):
    result = run("show", "modelcontextprotocol/server-filesystm", "--db", crawled)
    assert "did you mean 'modelcontextprotocol/server-filesystem'" in error_line(result)


def test_queries_need_an_existing_catalogue(tmp_path):
    result = run("stats", "--db", tmp_path / "none.db")
    assert result.exit_code == 1 and "no catalogue at" in error_line(result)
    assert not (tmp_path / "none.db").exists()


@pytest.mark.parametrize("command", [("stats",), ("search", "x"), ("grade",)])
def test_an_empty_file_is_not_a_catalogue_and_stays_empty(tmp_path, command):
    empty = tmp_path / "empty.db"
    empty.touch()
    result = run(*command, "--db", empty)
    assert result.exit_code == 1 and "is an empty file, not a catalogue" in error_line(result)
    assert empty.stat().st_size == 0


def test_a_file_that_is_not_a_catalogue(tmp_path):
    bogus = tmp_path / "bogus.db"
    bogus.write_text("this is not sqlite " * 100)
    result = run("stats", "--db", bogus)
    assert result.exit_code == 1 and "not a usable catalogue" in error_line(result)


def test_classify_names_the_bad_line(tmp_path):
    source = tmp_path / "tools.jsonl"
    source.write_text('{"name": "ok"}\n\n{"name": 7}\n')
    result = run("classify", "--input", source)
    assert result.exit_code == 1
    assert f'{source}:3: tool has no "name"' in error_line(result)
    assert '"category"' not in result.output  # nothing printed before the input was known good


def test_classify_rejects_a_missing_file_and_bad_encoding(tmp_path):
    result = run("classify", "--input", tmp_path / "missing.jsonl")
    assert result.exit_code == 2 and "missing.jsonl" in result.output
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes(json.dumps({"name": "caf\u00e9"}).encode("utf-8").replace(b"\\u00e9", b"\xe9"))
    result = run("classify", "--input", latin)
    assert result.exit_code == 1 and "not UTF-8" in error_line(result)


def test_unknown_choices_are_usage_errors(crawled):
    result = run("search", "x", "--category", "dangerous", "--db", crawled)
    assert result.exit_code == 2 and "dangerous" in result.output


@pytest.mark.parametrize("address, says", [
    ("http://127.0.0.1:8787", "(http:// is its dashboard's)"),
    ("tcp://", "is not a Dask scheduler address"),
    ("scheduler", "say tcp://HOST:8786"),
])
def test_a_cluster_that_is_not_a_scheduler_address_is_refused_before_any_crawl(crawled, address, says):
    before = catalogue_state(crawled)
    result = run("crawl", "live", "--allow-exec", "--cluster", address, "--db", crawled)
    assert result.exit_code != 0
    assert says in error_line(result)
    assert catalogue_state(crawled) == before  # no crawl run recorded for a typo


def test_an_in_memory_live_crawl_leaves_no_server_cache_behind(tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    result = run("crawl", "live", "--allow-exec", "--db", ":memory:")
    assert result.exit_code == 0, result.output
    assert "0 servers" in result.output
    assert list(tmp_path.iterdir()) == []
