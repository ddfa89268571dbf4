"""`mcp-risk crawl registry` against a loopback MCP registry (API v0.1, the seed's real shapes)."""

import json

from .conftest import FAST, fingerprint, query, run
from .loopback import Loopback, Registry


def crawl(server, db, *extra):
    return run("crawl", "registry", "--url", server.url, "--db", db, *FAST, *extra)


def test_pagination_to_the_end_stores_every_server_with_tools_unknown(db):
    registry = Registry(250)
    with Loopback(registry) as server:
        code, out, err = crawl(server, db)
    assert code == 0, err
    assert "ok" in out and "3 pages" in out and "250 servers (250 new" in out
    lists = [r for r in server.requests if r.path == "/v0.1/servers"]
    assert [r.query.get("limit") for r in lists] == ["100"] * 3
    assert all(r.query.get("version") == "latest" for r in lists)
    assert "cursor" not in lists[0].query and all("cursor" in r.query for r in lists[1:])
    assert all(r.headers["User-Agent"].startswith("mcp-risk/") and "(+" in r.headers["User-Agent"] for r in lists)
    assert query(db, "SELECT count(*), sum(tools_known), count(DISTINCT name) FROM servers") == [(250, 0, 250)]
    assert query(db, "SELECT count(*) FROM tools") == [(0,)]
    # each server keeps the registry's record: packages (with secret env vars) and repository
    record = json.loads(query(db, "SELECT ss.record FROM server_sources ss JOIN servers s ON s.id = ss.server_id "
                                  "WHERE s.name = 'io.github.loopback00000/airtable-mcp-server'")[0][0])
    assert record["repository"] == "https://github.com/loopback00000/airtable-mcp-server.git"
    npm = next(p for p in record["packages"] if p["registryType"] == "npm")
    assert npm["environmentVariables"][0] == {
        "name": "AIRTABLE_API_KEY", "isSecret": True, "isRequired": True,
        "description": npm["environmentVariables"][0]["description"]}
    assert record["status"] == "active" and record["updated_at"].startswith("2025-09-01")
    state = json.loads(query(db, "SELECT state FROM sources")[0][0])
    assert set(state) == {"updated_since"}  # walk complete: no cursor left to resume
    assert query(db, "SELECT status, pages, servers_seen, error_count FROM crawl_runs") == [("ok", 3, 250, 0)]


def test_incremental_sync_asks_for_changes_only_and_marks_deleted_and_deprecated(db):
    registry = Registry(150)
    with Loopback(registry) as server:
        assert crawl(server, db)[0] == 0
        before = len(server.requests)
        registry.touch(3, status="deleted")
        registry.touch(7, status="deprecated", description="Superseded by v2.")
        registry.add("io.github.newcomer/brand-new")
        code, out, err = crawl(server, db)
        second = server.requests[before:]
    assert code == 0, err
    assert len(second) == 1 and second[0].query["updated_since"] <= registry.entries[3]["_meta"][
        "io.modelcontextprotocol.registry/official"]["updatedAt"]
    assert "3 servers (1 new, 2 status changes)" in out
    statuses = dict(query(db, "SELECT name, status FROM servers WHERE status != 'active'"))
    assert statuses == {"io.github.loopback00003/time-mcp-pypi": "deleted",
                        "io.github.loopback00007/time-mcp-pypi": "deprecated"}
    assert query(db, "SELECT count(*) FROM servers") == [(151,)]  # marked, never dropped
    assert query(db, "SELECT description FROM servers WHERE name LIKE '%00007/%'") == [("Superseded by v2.",)]


def test_a_repeat_crawl_with_nothing_changed_rewrites_nothing(db):
    registry = Registry(120)
    with Loopback(registry) as server:
        assert crawl(server, db)[0] == 0
        before = fingerprint(db)
        code, out, _ = crawl(server, db)
        assert code == 0 and "0 servers (0 new" in out
        assert fingerprint(db) == before
        # the whole registry again (--full): every page is revalidated and costs a 304
        count = len(server.requests)
        code, out, _ = crawl(server, db, "--full")
        assert code == 0
        full = server.requests[count:]
    assert len(full) == 2 and all(r.headers.get("If-None-Match") for r in full)
    assert "2 requests (2 not modified" in out
    assert fingerprint(db) == before
    assert query(db, "SELECT not_modified FROM crawl_runs ORDER BY id DESC LIMIT 1") == [(2,)]


def test_updated_since_is_saved_only_after_a_complete_walk(db):
    registry = Registry(300)
    with Loopback(registry) as server:
        code, out, _ = crawl(server, db, "--max-pages", "2")
        assert code == 3 and "partial" in out  # stopped by the page limit: resumable
        state = json.loads(query(db, "SELECT state FROM sources")[0][0])
        assert "updated_since" not in state and state["resume"]["page"] == 2
        count = len(server.requests)
        code, _, _ = crawl(server, db)
        resumed = server.requests[count:]
    assert code == 0
    assert len(resumed) == 1 and resumed[0].query["cursor"] == state["resume"]["cursor"]
    assert "updated_since" not in resumed[0].query  # the first walk had none
    assert query(db, "SELECT count(*) FROM servers") == [(300,)]
    assert "updated_since" in json.loads(query(db, "SELECT state FROM sources")[0][0])
