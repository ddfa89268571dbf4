"""Time the main job on the full bundled snapshot (24,071 tools).

Prints: read (parse + normalize), ingest + classify + store into a fresh catalogue, a repeat crawl
(nothing changes), policy export for every server, the classification rate alone (one core, each
tool with its server's other tools as context, as every path classifies), `mcp-risk classify` of
the whole snapshot end to end (a process reading JSON lines and writing them), and training time.
Targets: whole main job under 20 s on a 2-core machine; classification >= 20,000 tools/s;
`classify` end to end >= 10,000 tools/s; `mcp-risk train` < 60 s.

    .venv/bin/python benchmarks/pipeline.py
"""

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mcp_risk import classifier  # noqa: E402
from mcp_risk.catalogue.db import open_catalogue  # noqa: E402
from mcp_risk.policies.export import export_policies  # noqa: E402
from mcp_risk.catalogue.store import CrawlRun  # noqa: E402
from mcp_risk.crawler.sources.snapshot import read_snapshot  # noqa: E402


def timed(label, work):
    start = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - start
    print(f"{label:<46} {seconds:8.2f} s")
    return result, seconds


def crawl(db_path, manifests):
    db = open_catalogue(db_path)
    with CrawlRun(db, "snapshot", kind="snapshot", location="bundled") as run:
        run.store(manifests)
    return run.counts


def main():
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "catalogue.db"
        manifests, read_s = timed("read snapshot (parse + normalize)", lambda: list(read_snapshot()))
        tools = [t for m in manifests for t in m.tools]
        counts, store_s = timed("ingest + classify + store (fresh catalogue)", lambda: crawl(db_path, manifests))
        assert counts.tools_added == len(tools) == 24071
        repeat, repeat_s = timed("repeat crawl (nothing changes)", lambda: crawl(db_path, list(read_snapshot())))
        assert repeat.tools_added == repeat.tools_changed == repeat.classified == 0
        index, export_s = timed("export-policies (every server)", lambda: export_policies(open_catalogue(db_path), Path(tmp) / "policies"))
        print(f"{'main job (read + ingest + export)':<46} {read_s + store_s + export_s:8.2f} s   target < 20 s")
        print(f"  {len(tools)} tools, {len(manifests)} servers, {len(index)} policies")

    contexts = [({"tools": m.tools}, m.tools) for m in manifests]
    best = None
    for _ in range(3):
        start = time.perf_counter()
        for context, server_tools in contexts:
            for tool in server_tools:
                classifier.classify(tool, context)
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
    print(f"{'classification alone, one core (best of 3)':<46} {len(tools) / best:8.0f} tools/s")
    pairs = [(tool, context) for context, server_tools in contexts for tool in server_tools]
    best = None
    for _ in range(3):
        start = time.perf_counter()
        classifier.classify_many(pairs)
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
    print(f"{'classification, every core (classify_many)':<46} {len(tools) / best:8.0f} tools/s   target >= 20,000"
          f"   ({os.cpu_count()} cores)")

    import json
    import subprocess

    lines = "".join(json.dumps(dict(tool, server=m.name)) + "\n" for m in manifests for tool in m.tools)
    script = Path(sys.executable).with_name("mcp-risk")
    best = None
    for _ in range(3):
        start = time.perf_counter()
        done = subprocess.run([script, "classify", "--input", "-"], input=lines, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        assert done.returncode == 0 and done.stdout.count("\n") == len(tools), done.stderr[-500:]
        best = elapsed if best is None else min(best, elapsed)
    print(f"{'mcp-risk classify, end to end (best of 3)':<46} {len(tools) / best:8.0f} tools/s   target >= 10,000")

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        done = subprocess.run([script, "train", "-o", str(Path(tmp) / "model.json")], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-500:]
        print(f"{'mcp-risk train (lexicon cached)':<46} {time.perf_counter() - start:8.2f} s   target < 60 s")


if __name__ == "__main__":
    main()
