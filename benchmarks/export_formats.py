"""Time `export-policies` in every format on the full bundled snapshot (every server, balanced profile).

Prints seconds per format and each one's ratio to the fastest. Target: every format within 2x of the
fastest (Intercept's YAML goes through libyaml's C emitter; the JSON formats through the C encoder).

    .venv/bin/python benchmarks/export_formats.py
"""

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mcp_risk.catalogue.db import open_catalogue  # noqa: E402
from mcp_risk.catalogue.store import CrawlRun  # noqa: E402
from mcp_risk.crawler.sources.snapshot import read_snapshot  # noqa: E402
from mcp_risk.policies.export import export_policies  # noqa: E402
from mcp_risk.policies.formats import FORMATS  # noqa: E402


def main():
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "catalogue.db"
        db = open_catalogue(db_path)
        with CrawlRun(db, "snapshot", kind="snapshot", location="bundled") as run:
            run.store(list(read_snapshot()))
        times = {}
        for fmt in FORMATS:
            best = None
            for attempt in range(2):
                start = time.perf_counter()
                index = export_policies(open_catalogue(db_path), Path(tmp) / f"{fmt}-{attempt}", fmt=fmt)
                seconds = time.perf_counter() - start
                best = seconds if best is None else min(best, seconds)
            times[fmt] = best
        fastest = min(times.values())
        print(f"export-policies, {len(index)} servers, balanced profile (best of 2)")
        for fmt, seconds in times.items():
            print(f"  {fmt:<12} {seconds:7.2f} s   {seconds / fastest:4.2f}x the fastest")
        worst = max(times.values()) / fastest
        print(f"slowest / fastest: {worst:.2f}x   target <= 2x   {'ok' if worst <= 2 else 'MISSED'}")


if __name__ == "__main__":
    main()
