"""Benchmark of `mcp-risk crawl registry` (issue 5).

Serves a registry of 5,000 servers (100 per page, the seed's real shapes) on 127.0.0.1 from a
separate process, with 50 ms added to every response, and prints:

  full crawl     a fresh catalogue, against the floor sequential cursors impose (50 pages x 50 ms);
                 target: within 1.3x the floor
  repeat crawl   nothing changed (incremental: updated_since); target: under a tenth of the full
                 crawl, with no catalogue row rewritten
  full again     --full with nothing changed: every page revalidated (304), for reference
  through the CLI the same full and repeat crawls as whole `mcp-risk crawl registry` processes
                 (a fresh catalogue each), beside the in-process figures: what the process adds
                 is start-up (interpreter, imports, opening the catalogue); target for a repeat
                 crawl: under 0.2 s of start-up

In-process, the crawl runs through the same library calls as the CLI (lock, catalogue,
crawl_source); the rate limit is lifted (loopback), everything else is as shipped. The CLI runs
with its bytecode cached, as an installed package runs (PYTHONDONTWRITEBYTECODE is lifted for it,
and one untimed run writes the cache); each CLI figure is the best of --runs.

    .venv/bin/python benchmarks/crawl_registry.py [--servers 5000] [--delay 0.05]
"""

import argparse
import hashlib
import multiprocessing
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "crawl"))

DATA_TABLES = ("servers", "server_sources", "server_aliases", "tools", "tool_history", "classifications")


def serve(count, delay, ready, stop):
    from loopback import Loopback, Registry

    registry = Registry(count)
    registry.warm()  # the server's own work is not what is measured: only the 50 ms it adds
    with Loopback(registry, delay=delay) as server:
        ready.put(server.url)
        stop.wait()


def fingerprint(path):
    conn = sqlite3.connect(path)
    digest, rows = hashlib.sha256(), 0
    for table in DATA_TABLES:
        for row in sorted(conn.execute(f"SELECT * FROM {table}").fetchall(), key=repr):
            digest.update(repr(row).encode())
            rows += 1
    conn.close()
    return digest.hexdigest(), rows


def crawl(url, db_path, *, full=False):
    from mcp_risk.catalogue.crawling import cache_path, crawl_source
    from mcp_risk.catalogue.db import open_catalogue
    from mcp_risk.catalogue.lock import crawl_lock
    from mcp_risk.crawler.http import HttpOptions
    from mcp_risk.crawler.sources.registry import RegistrySource

    started = time.perf_counter()
    with crawl_lock(db_path):
        db = open_catalogue(db_path)
        changes_before = db.conn.total_changes
        options = HttpOptions(rate_per_minute=None, cache_path=cache_path(db_path))
        result = crawl_source(db, RegistrySource(url, full=full), options=options)
        changes = db.conn.total_changes - changes_before
        db.conn.close()
    return time.perf_counter() - started, result, changes


MCP_RISK = str(Path(sys.executable).parent / "mcp-risk")


def cli_crawl(url, db_path, env):
    """Seconds of one whole `mcp-risk crawl registry` process."""
    started = time.perf_counter()
    done = subprocess.run([MCP_RISK, "crawl", "registry", "--url", url, "--db", db_path, "--rate", "0", "--quiet"],
                          env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    assert done.returncode == 0, done.stderr
    return seconds


def cli_figures(url, tmp, runs):
    """(best full, best repeat, best `mcp-risk --version`) as whole processes."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([MCP_RISK, "crawl", "registry", "--url", url, "--db", str(Path(tmp) / "warm.db"), "--rate", "0",
                    "--quiet"], env=env, capture_output=True, check=True)  # writes the bytecode cache
    fulls, repeats, versions = [], [], []
    for run in range(runs):
        db_path = str(Path(tmp) / f"cli-{run}.db")
        fulls.append(cli_crawl(url, db_path, env))
        repeats.append(cli_crawl(url, db_path, env))
        started = time.perf_counter()
        subprocess.run([MCP_RISK, "--version"], env=env, capture_output=True, check=True)
        versions.append(time.perf_counter() - started)
    return min(fulls), min(repeats), min(versions)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=5000)
    parser.add_argument("--delay", type=float, default=0.05, help="seconds added to every response")
    parser.add_argument("--runs", type=int, default=5, help="CLI runs of each crawl (the best is shown)")
    args = parser.parse_args()
    pages = -(-args.servers // 100)
    floor = pages * args.delay

    context = multiprocessing.get_context("spawn")
    ready, stop = context.Queue(), context.Event()
    server = context.Process(target=serve, args=(args.servers, args.delay, ready, stop), daemon=True)
    server.start()
    try:
        url = ready.get(timeout=60)
        with tempfile.TemporaryDirectory() as tmp:
            db_path = str(Path(tmp) / "catalogue.db")
            full_s, full, _ = crawl(url, db_path)
            assert full.status == "ok" and full.counts.servers_seen == args.servers, (full.status, full.message)
            before, rows = fingerprint(db_path)
            repeat_s, repeat, repeat_changes = crawl(url, db_path)
            after, _ = fingerprint(db_path)
            again_s, again, again_changes = crawl(url, db_path, full=True)
            final, _ = fingerprint(db_path)
            cli_full_s, cli_repeat_s, version_s = cli_figures(url, tmp, args.runs)
    finally:
        stop.set()
        server.join(timeout=10)

    ratio = full_s / floor
    print(f"registry: {args.servers:,} servers, {pages} pages of 100, {args.delay * 1000:.0f} ms added to every response")
    print(f"full crawl:    {full_s:6.3f} s  floor {floor:.3f} s ({pages} x {args.delay * 1000:.0f} ms)  "
          f"= {ratio:.2f}x the floor  [target <= 1.30x: {'PASS' if ratio <= 1.3 else 'FAIL'}]")
    print(f"               {full.http.requests} requests, {rows:,} catalogue rows written")
    share = repeat_s / full_s
    untouched = before == after
    print(f"repeat crawl:  {repeat_s:6.3f} s  = {share:.3f} of the full crawl, {repeat.http.requests} request(s), "
          f"{repeat.counts.servers_seen} servers returned  [target < 0.100: {'PASS' if share < 0.1 else 'FAIL'}]")
    print(f"               catalogue data rows rewritten: {'none' if untouched else 'SOME'} "
          f"(fingerprint of {', '.join(DATA_TABLES)}); bookkeeping writes: {repeat_changes} "
          f"(its crawl_runs row, the source's updated_since)  [{'PASS' if untouched else 'FAIL'}]")
    print(f"full again:    {again_s:6.3f} s  {again.http.requests} requests, {again.http.not_modified} answered 304, "
          f"data rows rewritten: {'none' if final == after else 'SOME'}; bookkeeping writes: {again_changes}")
    startup = cli_repeat_s - repeat_s
    print(f"through the CLI (whole processes, best of {args.runs}):")
    print(f"  full crawl:  {cli_full_s:6.3f} s  (in-process {full_s:.3f} s: {cli_full_s - full_s:+.3f} s)")
    print(f"  repeat:      {cli_repeat_s:6.3f} s  (in-process {repeat_s:.3f} s: start-up {startup:.3f} s)  "
          f"[target < 0.200: {'PASS' if startup < 0.2 else 'FAIL'}]")
    print(f"  `mcp-risk --version`: {version_s:.3f} s (interpreter, click and the command modules)")
    ok = ratio <= 1.3 and share < 0.1 and untouched and final == after and startup < 0.2
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
