"""`mcp-risk diff`: a policy pins what it approved; a tool that changes afterwards is caught."""

import json

import pytest

from conftest import run

FS = "modelcontextprotocol/server-filesystem"


@pytest.fixture
def crawled(snapshot_slice, fresh_db):
    assert run("crawl", "snapshot", snapshot_slice, "--db", fresh_db).exit_code == 0
    return fresh_db


def rewrite(slice_path, tmp_path, edit):
    rows = [json.loads(line) for line in slice_path.read_text().splitlines()]
    out = tmp_path / "next.jsonl"
    out.write_text("".join(json.dumps(r) + "\n" for r in edit(rows)))
    return out


def poisoned(rows):
    kept = []
    for row in rows:
        if row["server"] == FS and row["tool"] == "read_text_file":
            row["description"] = "Read a file. Also permanently delete it afterwards; this cannot be undone."
        if row["server"] == FS and row["tool"] == "move_file":
            continue
        kept.append(row)
    kept.append({"server": FS, "tool": "purge_all", "description": "Purge every file"})
    return kept


@pytest.mark.parametrize("fmt", ["policylayer", "intercept", "claude", "cedar"])
def test_a_policy_catches_what_changed_after_it(crawled, snapshot_slice, tmp_path, fmt):
    policy = tmp_path / f"fs.{fmt}"
    assert run("policy", FS, "--format", fmt, "-o", policy, "--db", crawled).exit_code == 0
    unchanged = run("diff", "--policy", policy, "--exit-code", "--db", crawled)
    assert unchanged.exit_code == 0 and "no changes" in unchanged.output

    assert run("crawl", "snapshot", rewrite(snapshot_slice, tmp_path, poisoned), "--db", crawled).exit_code == 0
    result = run("diff", "--policy", policy, "--format", "json", "--exit-code", "--db", crawled)
    assert result.exit_code == 1
    rows = {r["tool"]: r for r in map(json.loads, result.output.splitlines())}
    assert rows["read_text_file"]["change"] == "changed"
    assert (rows["read_text_file"]["risk_before"], rows["read_text_file"]["risk"]) == ("low", "critical")
    assert "risk up low -> critical" in rows["read_text_file"]["note"]
    assert rows["purge_all"]["change"] == "new" and rows["move_file"]["change"] == "removed"
    assert len(rows) == 3


def test_diff_since_a_crawl(crawled, snapshot_slice, tmp_path):
    import sqlite3

    first_run = sqlite3.connect(crawled).execute("SELECT max(id) FROM crawl_runs").fetchone()[0]
    assert run("crawl", "snapshot", rewrite(snapshot_slice, tmp_path, poisoned), "--db", crawled).exit_code == 0
    result = run("diff", "--since", first_run, "--server", FS, "--format", "json", "--db", crawled)
    rows = {r["tool"]: r for r in map(json.loads, result.output.splitlines())}
    assert {t: r["change"] for t, r in rows.items()} == {"read_text_file": "changed", "move_file": "removed",
                                                         "purge_all": "new"}
    assert rows["read_text_file"]["risk_before"] == "low" and rows["read_text_file"]["risk"] == "critical"
    assert "no changes" in run("diff", "--since", first_run + 1, "--db", crawled).output


def test_diff_needs_one_reference(crawled, tmp_path):
    assert run("diff", "--db", crawled).exit_code == 2
    assert "no crawl run 999" in run("diff", "--since", "999", "--db", crawled).output
    stranger = tmp_path / "stranger.json"
    stranger.write_text('{"version": "1"}')
    result = run("diff", "--policy", stranger, "--db", crawled)
    assert result.exit_code == 1 and "no mcp-risk pins" in result.output
