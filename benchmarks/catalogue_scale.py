"""Query and export at scale: a catalogue of ~250,000 tools (the snapshot repeated under new names).

Prints: build time, full-text search latency (p50, p95, max over varied queries, with and
without filters), `search` filters without text, and `export-policies` for every server.
Targets (issue 6): search p95 under 50 ms; export-policies for every server under 10 s.

    .venv/bin/python benchmarks/catalogue_scale.py [--copies 10] [--keep DIR]
"""

import argparse
import random
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mcp_risk.catalogue import queries  # noqa: E402
from mcp_risk.catalogue.db import open_catalogue  # noqa: E402
from mcp_risk.policies.export import export_policies  # noqa: E402
from mcp_risk.catalogue.store import CrawlRun  # noqa: E402
from mcp_risk.crawler.sources.snapshot import read_snapshot  # noqa: E402

QUERIES = ["delete", "repository", "file", "send email", "payment", "create issue", "sql query", "list users",
           "browser click", "upload", "token", "transfer funds", "kubernetes pod", "search documents",
           "calendar event", "slack message", "refund", "execute command", "weather", "database table"]


def build(db_path, copies):
    base = list(read_snapshot())
    db = open_catalogue(db_path)
    start = time.perf_counter()
    tools = 0
    for copy in range(copies):
        manifests = base if copy == 0 else [replace(m, name=f"{m.name} (copy {copy})") for m in base]
        with CrawlRun(db, f"scale-{copy}", kind="benchmark") as run:
            run.store(manifests)
        tools += run.counts.tools_added
    return db, tools, time.perf_counter() - start


def latencies(db, calls):
    timings = []
    for call in calls:
        start = time.perf_counter()
        call()
        timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95) - 1], timings[-1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=11)
    parser.add_argument("--keep", help="Build the catalogue in this directory and keep it.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.keep or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        db_path = folder / "scale.db"
        if db_path.exists():
            db_path.unlink()
        db, tools, seconds = build(db_path, args.copies)
        servers = db.execute("SELECT count(*) FROM servers").fetchone()[0]
        print(f"built {tools} tools, {servers} servers in {seconds:.1f} s")

        rng = random.Random(0)
        text_calls = [lambda q=q: queries.search(db, q, limit=50) for q in QUERIES * 5]
        filtered = [lambda q=q, c=rng.choice(["read", "write", "destructive", "execute", "financial"]):
                    queries.search(db, q, category=c, limit=50) for q in QUERIES * 5]
        server_names = [row[0] for row in db.execute("SELECT name FROM servers ORDER BY random() LIMIT 50")]
        by_server = [lambda s=s: queries.search(db, None, server=s, limit=50) for s in server_names]
        no_text = [lambda c=c, r=r: queries.search(db, None, category=c, risk=r, limit=50)
                   for c, r in [("destructive", "critical"), ("financial", "critical"), ("execute", "high")] * 10]
        for label, calls in [("search text", text_calls), ("search text + category", filtered),
                             ("search --server (no text)", by_server), ("search category + risk (no text)", no_text)]:
            p50, p95, worst = latencies(db, calls)
            print(f"{label:<36} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   max {worst:7.1f} ms   target p95 < 50 ms")

        start = time.perf_counter()
        index = export_policies(open_catalogue(db_path), folder / "policies")
        print(f"{'export-policies (' + str(len(index)) + ' servers)':<36} {time.perf_counter() - start:7.1f} s   target < 10 s")


if __name__ == "__main__":
    main()
