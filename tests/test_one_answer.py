"""One definition, one verdict: `classify` and the catalogue agree on every tool, whatever the
server is called; server context is the server's other tools, passed the same way on every path."""

import json
import sqlite3

from conftest import run


def _as_tool_lines(snapshot_slice, rename=None):
    lines = []
    for line in snapshot_slice.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        tool = {"name": row["tool"], "server": rename(row["server"]) if rename else row["server"]}
        for key, field in (("description", "description"), ("inputSchema", "input_schema"), ("annotations", "annotations")):
            if row.get(field) is not None:
                tool[key] = row[field]
        lines.append(json.dumps(tool))
    return "\n".join(lines) + "\n"


def _classify(text):
    result = run("classify", "--input", "-", input=text)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines()]


def test_classify_and_the_catalogue_agree_on_every_tool(snapshot_slice, sliced_db):
    classified = {(r["server"], r["name"]): r for r in _classify(_as_tool_lines(snapshot_slice))}
    conn = sqlite3.connect(sliced_db)
    stored = conn.execute(
        "SELECT s.name, t.name, c.category, c.flags, c.confidence FROM tools t JOIN servers s ON s.id = t.server_id "
        "JOIN classifications c ON c.id = t.classification_id").fetchall()
    assert len(stored) == len(classified) > 300
    disagreements = [(server, tool) for server, tool, category, flags, confidence in stored
                     if (classified[server, tool]["category"], classified[server, tool]["flags"],
                         classified[server, tool]["confidence"]) != (category, json.loads(flags), confidence)]
    assert disagreements == []


def test_renaming_a_server_changes_no_verdict(snapshot_slice):
    plain = _classify(_as_tool_lines(snapshot_slice))
    renamed = _classify(_as_tool_lines(snapshot_slice, rename=lambda name: "renamed/" + name[::-1]))
    assert [{k: v for k, v in r.items() if k != "server"} for r in plain] == \
        [{k: v for k, v in r.items() if k != "server"} for r in renamed]


def test_a_tool_is_classified_again_when_its_servers_hints_change(tmp_path):
    """The context is how a server's annotations spread: when a later crawl changes that spread, the
    catalogue's verdict for an unchanged tool follows what `classify` now says of it. Real tools of
    a live-listed server; in the second crawl every other tool carries the hints this one carries."""
    from pathlib import Path

    live = Path(__file__).resolve().parents[1] / "data" / "labels" / "live_labelled.jsonl"
    real = [json.loads(line)["definition"] for line in live.read_text(encoding="utf-8").splitlines()
            if json.loads(line)["server"] == "@akutishevsky/lunchmoney-mcp"]
    kept = next(t for t in real if t["name"] == "update_manual_crypto")
    uniform = [t if t is kept else dict(t, annotations=kept["annotations"]) for t in real]
    db, path = tmp_path / "catalogue.db", tmp_path / "tools.json"
    verdicts = []
    for tools in (real, uniform):
        document = json.dumps({"tools": tools})
        path.write_text(document)
        assert run("crawl", "file", path, "--server", "lunchmoney", "--db", db).exit_code == 0
        expected = {r["name"]: (r["category"], r["confidence"]) for r in _classify(document)}
        conn = sqlite3.connect(db)
        stored = {name: (category, confidence) for name, category, confidence in conn.execute(
            "SELECT t.name, c.category, c.confidence FROM tools t JOIN classifications c ON c.id = t.classification_id")}
        # The tools table's own copies (what listings sort and filter by) follow too.
        copies = {name: (category, confidence) for name, category, confidence in conn.execute(
            "SELECT name, category, confidence FROM tools")}
        conn.close()
        assert stored == expected
        assert copies == expected
        verdicts.append(expected["update_manual_crypto"])
    assert verdicts[0] != verdicts[1]  # the context did change this unchanged tool's verdict


def test_a_large_batch_on_every_core_gives_the_same_verdicts_in_order():
    from mcp_risk import classifier
    from mcp_risk.crawler.sources.snapshot import read_snapshot

    pairs = []
    for manifest in read_snapshot():
        context = {"tools": manifest.tools}
        pairs += [(tool, context) for tool in manifest.tools]
        if len(pairs) > classifier.PARALLEL_BATCH + 500:
            break
    assert classifier.classify_many(pairs, processes=2) == [classifier.classify(t, c) for t, c in pairs]
