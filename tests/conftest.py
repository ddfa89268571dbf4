"""Fixtures shared by the pipeline tests: a slice of the real bundled snapshot and a catalogue of it."""

import gzip
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from mcp_risk.cli import cli
from mcp_risk.crawler.sources.snapshot import default_path

KNOWN_SERVERS = ("modelcontextprotocol/server-filesystem", "github/github-mcp-server")


def snapshot_rows():
    with gzip.open(default_path(), "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


@pytest.fixture(scope="session")
def snapshot_slice(tmp_path_factory):
    """Real rows of ~60 servers: two well-known ones and every 50th server by name."""
    rows = snapshot_rows()
    names = sorted({r["server"] for r in rows})
    chosen = set(KNOWN_SERVERS) | set(names[::50])
    path = tmp_path_factory.mktemp("slice") / "slice.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows if r["server"] in chosen), encoding="utf-8")
    return path


def run(*args, input=None):
    """Run the real CLI in-process; returns the click Result."""
    return CliRunner().invoke(cli, [str(a) for a in args], input=input, catch_exceptions=False)


@pytest.fixture(scope="session")
def sliced_db(snapshot_slice, tmp_path_factory):
    """A catalogue built by `mcp-risk crawl snapshot` from the slice. Treat as read-only."""
    db = tmp_path_factory.mktemp("db") / "catalogue.db"
    result = run("crawl", "snapshot", snapshot_slice, "--db", db)
    assert result.exit_code == 0, result.output
    return db


def table_rows(db_path, table):
    import sqlite3

    conn = sqlite3.connect(db_path)
    try:
        return sorted(conn.execute(f"SELECT * FROM {table}").fetchall(), key=repr)
    finally:
        conn.close()


@pytest.fixture
def fresh_db(tmp_path):
    return Path(tmp_path) / "catalogue.db"


# -- Datasette in a real browser (tests/test_serve.py, tests/security/test_injection.py) ----------

def free_port():
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@__import__("contextlib").contextmanager
def serving(db):
    """`mcp-risk serve` on a free loopback port until the block ends: (base URL, database name)."""
    import subprocess
    import sys
    import time
    import urllib.request

    port = free_port()
    process = subprocess.Popen([Path(sys.executable).with_name("mcp-risk"), "serve", "--port", str(port), "--db", db],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(base + "/-/versions.json", timeout=1)
                break
            except OSError:
                if process.poll() is not None:
                    raise AssertionError(process.stdout.read().decode())
                time.sleep(0.1)
        else:
            raise AssertionError("Datasette did not start")
        yield base, Path(db).stem
    finally:
        process.terminate()
        process.wait(10)


def chromium_dom(url, tmp_path, *flags):
    """The DOM headless Chromium builds for a page (as a person's browser would)."""
    import shutil
    import subprocess

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    assert browser, "Chromium is needed: `make test` installs it (apt-get install chromium)"
    completed = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", *flags, "--dump-dom", url],
        capture_output=True, text=True, timeout=120,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    return completed.stdout
