"""Fixtures for the crawl tests: loopback servers (see loopback.py), the real CLI in-process or as
a subprocess, and a look inside the catalogue."""

import hashlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from mcp_risk.cli import cli

MCP_RISK = str(Path(sys.executable).parent / "mcp-risk")
# Fast, still real: no rate limit (loopback), small backoffs come from the servers' Retry-After.
FAST = ("--rate", "0", "--timeout", "2")
DATA_TABLES = ("servers", "server_sources", "server_aliases", "tools", "tool_history", "classifications")


def run(*args, env=None):
    """The real CLI in-process: (exit code, stdout, stderr)."""
    result = CliRunner().invoke(cli, [str(a) for a in args], env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def spawn(*args, env=None):
    """The real CLI as a subprocess (for kills and concurrent crawls)."""
    environment = {**os.environ, **(env or {})}
    return subprocess.Popen([MCP_RISK, *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=environment)


def query(db, sql, params=()):
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def fingerprint(db, tables=DATA_TABLES):
    """A hash of every row of the data tables: equal fingerprints, nothing rewritten."""
    conn = sqlite3.connect(db)
    try:
        digest = hashlib.sha256()
        for table in tables:
            for row in sorted(conn.execute(f"SELECT * FROM {table}").fetchall(), key=repr):
                digest.update(repr(row).encode())
        return digest.hexdigest()
    finally:
        conn.close()


@pytest.fixture
def db(tmp_path):
    return tmp_path / "catalogue.db"
