"""A tool whose name hides something (a bidi override, a zero-width or control character, a
look-alike letter of another script) is stored by every source that lists tools, flagged
`suspicious_instructions` with the name's evidence, and the crawl is complete (exit 0)."""

import gzip
import json

import pytest

from .conftest import FAST, query, run
from .loopback import REFERENCE, DockerCatalog, Glama, Loopback, Smithery, glama_servers

HIDING = {
    "delete\u202eeliF": "name hides control/invisible/bidi characters",  # shows as deleteFile
    "list\u200bnotes": "name hides control/invisible/bidi characters",
    "get\x1b[2Jnotes": "name hides control/invisible/bidi characters",
    "re\u0430d_file": "name has look-alike letters from another script",  # Cyrillic а
}


def rename(tools):
    """The first tools of a real listing, under the hostile names (definitions otherwise real)."""
    assert len(tools) > len(HIDING)
    for tool, name in zip(tools, HIDING):
        tool["name"] = name
    return tools


def assert_kept_and_flagged(db, code, out, err):
    assert code == 0, (out, err)
    rows = dict(query(db, "SELECT t.name, c.evidence FROM tools t JOIN classifications c ON c.id = t.classification_id"))
    for name, why in HIDING.items():
        assert name in rows, name
        assert f"suspicious_instructions: {why}" in json.loads(rows[name]), (name, rows[name])
    assert query(db, "SELECT status, errors FROM crawl_runs ORDER BY id DESC LIMIT 1") == [("ok", None)]
    assert "\u202e" not in out + err and "\x1b" not in out + err


def test_docker(db):
    catalog = DockerCatalog()
    with Loopback(catalog) as server:
        catalog.bind(server.url)
        name = next(n for n, tools in catalog.tools.items() if len(tools) > len(HIDING))
        rename(catalog.tools[name])
        assert_kept_and_flagged(db, *run("crawl", "docker", "--url", f"{server.url}/catalog.json", "--db", db, *FAST))


def test_glama(db):
    servers = glama_servers(3)
    rename(max(servers, key=lambda s: len(s["tools"]))["tools"])
    with Loopback(Glama(servers)) as server:
        assert_kept_and_flagged(db, *run("crawl", "glama", "--url", server.url, "--db", db, *FAST))


def test_smithery(db):
    smithery = Smithery("k3y", count=3)
    rename(max(smithery.servers, key=lambda s: len(s["tools"]))["tools"])
    with Loopback(smithery) as server:
        assert_kept_and_flagged(db, *run("crawl", "smithery", "--url", server.url, "--db", db, *FAST,
                                         env={"SMITHERY_API_KEY": "k3y"}))


@pytest.mark.parametrize("shape", ["tools/list", "toolhive"])
def test_files(db, tmp_path, shape):
    snapshot = json.loads((REFERENCE / "tools_list_snapshots" / "server-filesystem.json").read_text())
    tools = rename((snapshot.get("result") or snapshot)["tools"])
    if shape == "tools/list":
        document = {"jsonrpc": "2.0", "id": 2, "result": {"tools": tools}}
    else:  # ToolHive's legacy registry, with full tool definitions
        document = {"version": "1.0.0", "last_updated": "2025-11-20T00:00:00Z",
                    "servers": {"filesystem": {"description": "Files.", "image": "mcp/filesystem:latest",
                                               "status": "Active", "tier": "Official", "transport": "stdio",
                                               "tools": [t["name"] for t in tools], "tool_definitions": tools}}}
    path = tmp_path / "listing.json"
    path.write_text(json.dumps(document))
    assert_kept_and_flagged(db, *run("crawl", "file", path, "--server", "filesystem", "--db", db))
    code, out, err = run("show", "filesystem", "--db", db)
    assert code == 0 and "delete\\u202eeliF" in out and "re\\u0430d_file" in out  # shown escaped
    code, out, err = run("policy", "filesystem", "--db", db)
    assert set(HIDING) <= set(json.loads(out)["hide"])


def test_snapshot(db, tmp_path):
    path = tmp_path / "snapshot.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        for name in [*HIDING, "read_notes"]:
            handle.write(json.dumps({"server": "notes", "tool": name, "description": "Notes of the user."}) + "\n")
    assert_kept_and_flagged(db, *run("crawl", "snapshot", path, "--db", db))
