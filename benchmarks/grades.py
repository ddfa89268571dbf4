"""Time grading: every server of the bundled snapshot after classification, and a 100-server config's flows.

    .venv/bin/python benchmarks/grades.py [--runs 5]

Classifies the snapshot's 24,071 tools once (not timed: that is the classifier's benchmark), then
times `classifier.grades.grade_server` over all 2,567 servers, and `grade_config` over 100 of them (the
100 with the most flow legs, so the config has flows to find). Target (issue 12): all servers graded in
under 1 s. Prints the median of the runs and the grade distribution.
"""

import argparse
import collections
import gzip
import json
import statistics
import time

from mcp_risk.classifier import classify_many
from mcp_risk.crawler.sources.snapshot import default_path
from mcp_risk.classifier.grades import GRADES, LEG_FLAGS, grade_config, grade_server


def classified_servers():
    with gzip.open(default_path(), "rt", encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines]
    tools = [{"name": r["tool"], "title": r.get("title"), "description": r.get("description"),
              "inputSchema": r.get("input_schema") or {}, "annotations": r.get("annotations") or {}} for r in rows]
    results = classify_many([(t, r["server"]) for t, r in zip(tools, rows)])
    servers = collections.defaultdict(list)
    for row, result in zip(rows, results):
        servers[row["server"]].append({"tool": row["tool"], "category": result.category, "flags": list(result.flags)})
    return servers


def timed(function, runs):
    times, value = [], None
    for _ in range(runs):
        start = time.perf_counter()
        value = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), value


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    start = time.perf_counter()
    servers = classified_servers()
    print(f"classified {sum(map(len, servers.values()))} tools of {len(servers)} servers in "
          f"{time.perf_counter() - start:.1f} s (not part of the target)")

    seconds, grades = timed(lambda: [grade_server(tools, name) for name, tools in servers.items()], args.runs)
    counts = collections.Counter(g.grade for g in grades)
    print(f"graded {len(grades)} servers in {seconds * 1000:.0f} ms (median of {args.runs}; target < 1000 ms)")
    print("grades: " + ", ".join(f"{g} {counts[g]}" for g in GRADES)
          + f"; {sum(1 for g in grades if g.flows)} servers with a toxic flow inside")

    def legs(name):
        return sum(1 for t in servers[name] for flag in LEG_FLAGS.values() if flag in t["flags"])

    chosen = sorted(servers, key=lambda n: (-legs(n), n))[:100]
    config = {name: servers[name] for name in chosen}
    seconds, graded = timed(lambda: grade_config(config), args.runs)
    print(f"a 100-server config ({sum(map(len, config.values()))} tools): {len(graded.all_flows())} toxic flows "
          f"({len(graded.flows)} across servers) in {seconds * 1000:.1f} ms (median of {args.runs})")


if __name__ == "__main__":
    main()
