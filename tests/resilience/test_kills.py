"""SIGKILL a crawl and a scan at random moments, many times: the catalogue opens cleanly, keeps
everything committed before each kill, and the next run completes the work."""

import os
import random
import signal
import sqlite3
import sys
import time

import pytest

from crawl.conftest import FAST, spawn
from crawl.loopback import Loopback, Registry
from live.conftest import alive, raw_entry, sdk_entry, write_config

KILLS = 8


def check_catalogue(db):
    """The catalogue opens (finishing a schema a kill interrupted), the file is a sound SQLite
    database, and the catalogue's own rules hold. Returns (servers, tools)."""
    from mcp_risk.catalogue.db import open_catalogue

    open_catalogue(db).close()
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        names = [row[0] for row in conn.execute("SELECT name FROM servers")]
        assert len(names) == len(set(names))
        # a listed tool always has its current classification
        assert conn.execute("SELECT count(*) FROM tools WHERE status = 'listed' AND classification_id IS NULL").fetchone() == (0,)
        return len(names), conn.execute("SELECT count(*) FROM tools").fetchone()[0]
    finally:
        conn.close()


def kill_after(process, seconds):
    time.sleep(seconds)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)


def test_a_registry_crawl_killed_at_random_moments(tmp_path):
    db = tmp_path / "catalogue.db"
    chance = random.Random(7)
    registry = Registry(1200, page_delay=0.03)  # 12 pages
    with Loopback(registry) as server:
        kept = 0
        for _ in range(KILLS):
            crawl = spawn("crawl", "registry", "--url", server.url, "--db", db, *FAST)
            kill_after(crawl, chance.uniform(0.05, 0.9))
            if not db.exists():
                continue
            servers, _ = check_catalogue(db)
            assert servers >= kept, "a kill lost servers committed before it"
            kept = servers
        final = spawn("crawl", "registry", "--url", server.url, "--db", db, *FAST)
        out, err = final.communicate(timeout=120)
        assert final.returncode == 0, err
    assert check_catalogue(db)[0] == 1200
    runs = sqlite3.connect(db).execute("SELECT status FROM crawl_runs ORDER BY id").fetchall()
    assert runs[-1] == ("ok",) and ("running",) not in runs  # each killed run was marked afterwards


def test_a_snapshot_crawl_killed_at_random_moments_lands_whole_or_not_at_all(snapshot_slice, tmp_path):
    db = tmp_path / "catalogue.db"
    expected = len(snapshot_slice.read_text().splitlines())
    chance = random.Random(11)
    for _ in range(KILLS):
        crawl = spawn("crawl", "snapshot", snapshot_slice, "--db", db)
        kill_after(crawl, chance.uniform(0.0, 1.2))
        if db.exists():
            _, tools = check_catalogue(db)
            assert tools in (0, expected), f"a partial snapshot was committed: {tools} of {expected} tools"
    final = spawn("crawl", "snapshot", snapshot_slice, "--db", db)
    assert final.wait(120) == 0
    assert check_catalogue(db)[1] == expected


def sandboxed_of(pid):
    """Live processes carrying the sandbox marker of the scanner with this pid."""
    tag = f"MCP_RISK_SANDBOX={pid}-".encode()
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/environ", "rb") as handle:
                if tag in handle.read() and alive(int(entry)):
                    found.append(int(entry))
        except OSError:
            pass
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_scan_killed_at_random_moments(tmp_path):
    db = tmp_path / "catalogue.db"
    config = write_config(tmp_path / "mcp.json", {
        "files": sdk_entry("server-filesystem.json", page_size=3),
        "memory": sdk_entry("server-memory.json"),
        "slow": raw_entry("versioned", "2025-06-18"),
        "silent": raw_entry("silent"),
    })
    chance = random.Random(5)
    for _ in range(6):
        scan = spawn("scan", config, "--db", db, "--timeout", "5")
        time.sleep(chance.uniform(0.1, 2.0))
        scan.send_signal(signal.SIGKILL)
        scan.communicate(timeout=30)
        # the kernel kills the servers of a killed scan (PR_SET_PDEATHSIG): none keeps running
        deadline = time.monotonic() + 5
        while sandboxed_of(scan.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sandboxed_of(scan.pid) == []
        if db.exists():
            check_catalogue(db)
    final = spawn("scan", config, "--db", db, "--timeout", "5", "--format", "json")
    out, err = final.communicate(timeout=120)
    assert final.returncode in (0, 4), err  # 4: the silent server could not be scanned
    assert check_catalogue(db)[1] >= 3
    stored = {row[0] for row in sqlite3.connect(db).execute(
        "SELECT DISTINCT s.name FROM tools t JOIN servers s ON s.id = t.server_id WHERE t.status = 'listed'")}
    assert len(stored) >= 3
