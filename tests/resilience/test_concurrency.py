"""A crawl, a scan and readers on one catalogue at once: everyone finishes, nothing is lost, and
no "database is locked" reaches anyone."""

import sqlite3

from crawl.conftest import FAST, spawn
from crawl.loopback import Loopback, Registry
from live.conftest import sdk_entry, write_config


def test_a_crawl_a_scan_and_readers_at_once(snapshot_slice, tmp_path):
    db = tmp_path / "catalogue.db"
    assert spawn("crawl", "snapshot", snapshot_slice, "--db", db).wait(120) == 0  # readers have data from the start
    config = write_config(tmp_path / "mcp.json", {
        "files": sdk_entry("server-filesystem.json", page_size=2),
        "github": sdk_entry("server-github.json", page_size=7),
        "memory": sdk_entry("server-memory.json", page_size=1),
    })
    registry = Registry(1500, page_delay=0.02)
    with Loopback(registry) as server:
        crawl = spawn("crawl", "registry", "--url", server.url, "--db", db, *FAST)
        scans = [spawn("scan", config, "--db", db) for _ in range(2)]
        reads, failures = 0, []
        while crawl.poll() is None or any(s.poll() is None for s in scans):
            for args in (("search", "file"), ("stats",), ("show", "modelcontextprotocol/server-filesystem"),
                         ("search", "--category", "destructive", "--format", "json")):
                reader = spawn(*args, "--db", db)
                out, err = reader.communicate(timeout=60)
                reads += 1
                if reader.returncode != 0 or "locked" in err:
                    failures.append((args, reader.returncode, err))
        crawl_out, crawl_err = crawl.communicate(timeout=60)
        scan_results = [s.communicate(timeout=60) + (s.returncode,) for s in scans]
    assert failures == []
    assert reads >= 4
    assert crawl.returncode == 0, crawl_err
    assert "locked" not in crawl_err
    for out, err, code in scan_results:
        assert code == 0 and "locked" not in err, err
    conn = sqlite3.connect(db)
    registry_servers = conn.execute("SELECT count(*) FROM servers WHERE name LIKE 'io.github.loopback%'").fetchone()[0]
    assert registry_servers == 1500
    scanned = dict(conn.execute(
        "SELECT s.name, count(*) FROM tools t JOIN servers s ON s.id = t.server_id JOIN sources so ON so.id = t.source_id "
        "WHERE so.kind = 'live' GROUP BY s.name").fetchall())
    assert set(scanned) == {"files", "github", "memory"}, scanned
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
