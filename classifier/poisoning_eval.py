"""How well `suspicious_instructions` catches tool poisoning: recall on public attack sets, false
positives on real benign tools.

Attack sets: data/attacks/*.jsonl (MSB and MCPSecBench, rebuilt by data/attacks/convert.py; their
licences and attribution are in data/attacks/README.md). Benign sets: the hand-labelled live-listed
tools (data/labels/live_labelled.jsonl) and the 24,071 snapshot tools (data/snapshot/).
"""

import gzip
import json
from collections import Counter, defaultdict
from pathlib import Path

from .analysis import analyse

FLAG = "suspicious_instructions"


DATA = Path(__file__).resolve().parents[1] / "data"  # (the package's data, as the model finds it)


def _data(*parts):
    return DATA.joinpath(*parts)


def attack_sets():
    """{set name: [row, ...]} for every attack set shipped in data/attacks/."""
    found = {}
    for entry in sorted(_data("attacks").iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".jsonl"):
            with entry.open(encoding="utf-8") as lines:
                found[entry.name.removesuffix(".jsonl")] = [json.loads(line) for line in lines if line.strip()]
    return found


def benign_sets():
    """{set name: [(server, tool), ...]}: tools written by their servers' authors for their job."""
    live = []
    with _data("labels", "live_labelled.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            live.append((row.get("server", ""), row["definition"]))
    snapshot = []
    with gzip.open(_data("snapshot", "tools.jsonl.gz").open("rb"), "rt", encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            snapshot.append((row.get("server", ""), {
                "name": row.get("tool", ""), "description": row.get("description") or "",
                "inputSchema": row.get("input_schema") or {}, "annotations": row.get("annotations") or {}}))
    return {"live": live, "snapshot": snapshot}


def flagged(tool):
    """The suspicious_instructions evidence for one tool, or None."""
    return analyse(tool).rule_flags.get(FLAG)


def evaluate_poisoning():
    """Recall per attack set and type, false-positive rate per benign set, flagged benign tools."""
    report = {"attacks": {}, "benign": {}}
    for name, rows in attack_sets().items():
        by_type = defaultdict(Counter)
        misses = defaultdict(list)
        for row in rows:
            key = row["attack_type"]
            hit = flagged(row["tool"])
            by_type[key]["caught" if hit else "missed"] += 1
            by_type[key]["in_definition"] = int(row.get("in_definition", True))
            if not hit:
                misses[key].append(row["tool"].get("name", ""))
        visible = [r for r in rows if r.get("in_definition", True)]
        caught = sum(1 for r in visible if flagged(r["tool"]))
        report["attacks"][name] = {
            "tools": len(rows), "in_definition": len(visible), "caught": caught,
            "recall": caught / len(visible) if visible else None,
            "types": {key: {"tools": c["caught"] + c["missed"], "caught": c["caught"],
                            "recall": c["caught"] / (c["caught"] + c["missed"]),
                            "in_definition": bool(c["in_definition"]), "missed": sorted(set(misses[key]))[:10]}
                      for key, c in sorted(by_type.items())},
        }
    for name, pairs in benign_sets().items():
        hits = []
        for server, tool in pairs:
            evidence = flagged(tool)
            if evidence:
                hits.append({"server": server, "tool": tool.get("name", ""), "evidence": evidence})
        report["benign"][name] = {"tools": len(pairs), "flagged": len(hits),
                                  "false_positive_rate": len(hits) / len(pairs) if pairs else 0.0,
                                  "flagged_tools": hits}
    return report


def format_poisoning_report(report):
    lines = ["Tool poisoning (suspicious_instructions), rules over every text a model reads", ""]
    for name, result in report["attacks"].items():
        recall = result["recall"]
        lines.append(f"{name}: recall {recall:.3f} on {result['in_definition']} attacks visible in a definition "
                     f"({result['tools']} attack tools in all)")
        for key, kind in result["types"].items():
            note = "" if kind["in_definition"] else "  (not in the definition: needs the other tools or the response)"
            lines.append(f"  {key:<48} {kind['caught']:>4}/{kind['tools']:<4} recall {kind['recall']:.3f}{note}")
            if kind["missed"] and kind["in_definition"]:
                lines.append(f"    missed: {', '.join(kind['missed'])}")
    lines.append("")
    for name, result in report["benign"].items():
        lines.append(f"benign {name}: {result['flagged']} of {result['tools']} flagged, "
                     f"false-positive rate {result['false_positive_rate']:.4%}")
    lines.append("")
    lines.append("Flagged benign tools, for review:")
    for name, result in report["benign"].items():
        for hit in result["flagged_tools"]:
            lines.append(f"  [{name}] {hit['server']} {hit['tool']}: {hit['evidence']}")
    return "\n".join(lines)
