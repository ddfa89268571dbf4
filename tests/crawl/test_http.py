"""A crawl meets a bad network: 429 with Retry-After, 5xx, a hanging response, malformed JSON,
an oversized response; and it stays under its rate limit."""

import json
import time

from .conftest import FAST, fingerprint, query, run
from .loopback import Loopback, Registry, Reply


def crawl(server, db, *extra):
    return run("crawl", "registry", "--url", server.url, "--db", db, *FAST, *extra)


def test_429_with_retry_after_is_waited_out_then_the_crawl_completes(db):
    registry = Registry(150)
    registry.faults[2] = Reply(429, b'{"error":"rate limited"}', {"Retry-After": "1"})
    with Loopback(registry) as server:
        started = time.monotonic()
        code, out, err = crawl(server, db)
        elapsed = time.monotonic() - started
        stamps = [r for r in server.requests]
    assert code == 0, err
    assert "1 retry)" in out and "150 servers" in out  # "1 retries" no more
    assert len(stamps) == 3 and stamps[1].query == stamps[2].query  # the same page again
    assert elapsed >= 1.0  # Retry-After honoured
    assert query(db, "SELECT status, error_count FROM crawl_runs") == [("ok", 0)]


def test_a_500_then_success_is_retried(db):
    registry = Registry(150)
    registry.faults[1] = Reply(500, b'{"error":"Internal server error"}')
    registry.faults[2] = Reply(503, b"upstream down", {"Retry-After": "0"})
    with Loopback(registry) as server:
        code, out, err = crawl(server, db)
    assert code == 0, err
    assert "2 retries" in out
    assert query(db, "SELECT count(*) FROM servers") == [(150,)]


def test_a_hanging_response_times_out_fails_the_source_and_is_logged(db):
    registry = Registry(50)
    registry.faults.update({1: Reply(hang=True), 2: Reply(hang=True)})
    with Loopback(registry) as server:
        started = time.monotonic()
        code, out, err = run("crawl", "registry", "--url", server.url, "--db", db, "--rate", "0",
                             "--timeout", "0.3", "--attempts", "2")
        elapsed = time.monotonic() - started
    assert code == 4, (out, err)
    assert "failed" in out and "timed out (gave up after 2 attempts)" in err
    assert elapsed < 10
    status, errors = query(db, "SELECT status, errors FROM crawl_runs")[0]
    assert status == "failed" and "timed out" in json.loads(errors)[0]


def test_malformed_json_is_logged_the_rest_kept_and_the_next_crawl_resumes_there(db):
    registry = Registry(250)
    registry.faults[2] = Reply(200, b'{"servers": [{"server": {"name": "io.github.x/broken"', {"Content-Type": "application/json"})
    with Loopback(registry) as server:
        code, out, err = crawl(server, db)
        assert code == 3, (out, err)  # partial
        assert "not valid JSON" in err
        assert query(db, "SELECT count(*) FROM servers") == [(100,)]
        status, errors = query(db, "SELECT status, errors FROM crawl_runs")[0]
        assert status == "partial" and "not valid JSON" in errors
        count = len(server.requests)
        code, out, err = crawl(server, db)
        again = server.requests[count:]
    assert code == 0, err
    assert len(again) == 2 and again[0].query.get("cursor")  # resumed at the broken page, not the start
    assert query(db, "SELECT count(*), count(DISTINCT name) FROM servers") == [(250, 250)]


def test_hostile_entries_are_skipped_one_by_one_and_nothing_crashes(db):
    registry = Registry(3)
    good = registry.entries[0]
    hostile = [
        "just a string",
        {"server": {"name": 42, "description": ["not", "text"]}},
        {"server": {"name": "io.github.evil/zero\u200bwidth"}},
        {"server": {"name": "x" * 500}},
        {"server": {"name": "io.github.html/page", "description": "<script>alert(1)</script><b>hi</b>",
                    "packages": "not a list", "remotes": [{"type": "sse", "url": 5}], "repository": "nope"},
         "_meta": {"io.modelcontextprotocol.registry/official": {"status": "exploded"}}},
        {"server": {"name": "io.github.\u0435vil/g\u0456thub", "description": "confusable name"}},
    ]
    registry.entries = [good, *hostile]
    with Loopback(lambda request: Reply(200, json.dumps({"servers": registry.entries, "metadata": {"nextCursor": 7}}),
                                        {"Content-Type": "application/json"})) as server:
        code, out, err = crawl(server, db)
    assert code == 3, (out, err)
    names = {n for (n,) in query(db, "SELECT name FROM servers")}
    assert names == {good["server"]["name"], "io.github.html/page", "io.github.\u0435vil/g\u0456thub"}
    errors = json.loads(query(db, "SELECT errors FROM crawl_runs")[0][0])
    assert any("expected an object" in e for e in errors)
    assert any("name must be a string" in e for e in errors)
    assert any("invisible characters" in e for e in errors)
    assert any("longer than 200" in e for e in errors)
    assert any("unknown status" in e for e in errors)
    assert any("nextCursor is not a string" in e for e in errors)
    # the description is stored as text, never interpreted
    assert query(db, "SELECT description FROM servers WHERE name = 'io.github.html/page'") == [
        ("<script>alert(1)</script><b>hi</b>",)]


def test_a_response_over_the_size_limit_is_refused(db):
    registry = Registry(100)
    with Loopback(registry) as server:
        code, out, err = crawl(server, db, "--max-bytes", "4096")
    assert code == 4
    assert "over the 4,096-byte limit" in err
    assert query(db, "SELECT count(*) FROM servers") == [(0,)]


def test_not_a_registry_is_a_clear_failure(db):
    with Loopback(lambda request: Reply(200, "<html><body>hello</body></html>", {"Content-Type": "text/html"})) as server:
        code, out, err = crawl(server, db)
    assert code == 4 and "not valid JSON" in err
    with Loopback(lambda request: Reply(404, '{"error":"Not found"}')) as server:
        code, out, err = crawl(server, db)
    assert code == 4 and "HTTP 404" in err


def test_the_rate_limit_spaces_requests_per_host(db):
    registry = Registry(600)  # 6 pages
    with Loopback(registry) as server:
        started = time.monotonic()
        code, _, err = run("crawl", "registry", "--url", server.url, "--db", db, "--rate", "120")
        elapsed = time.monotonic() - started
    assert code == 0, err
    # 120/min is 2 a second, in a bucket of 4: the last 2 of 6 requests wait 0.5 s each
    assert elapsed >= 0.9


def test_limits_stop_a_crawl_that_resumes_later(db):
    registry = Registry(400, page_delay=0.3)
    with Loopback(registry) as server:
        code, out, err = crawl(server, db, "--max-time", "0.5")
        assert code == 3 and "time limit" in err
        stored = query(db, "SELECT count(*) FROM servers")[0][0]
        assert 0 < stored < 400
        before = fingerprint(db)
        code, out, err = crawl(server, db)
    assert code == 0, err
    assert query(db, "SELECT count(*), count(DISTINCT name) FROM servers") == [(400, 400)]
    assert fingerprint(db) != before


def test_one_attempt_that_fails_counts_no_retry(db):
    registry = Registry(50)
    registry.faults[1] = Reply(503, b"upstream down")
    with Loopback(registry) as server:
        code, out, err = crawl(server, db, "--attempts", "1")
        assert len(server.requests) == 1
    assert code == 4, (out, err)
    assert "1 request (0 not modified, 0 retries); " in out and "; 1 error -> " in out  # not "1 retry", "1 errors"
    assert "tried once, no retries" in err
    registry = Registry(50)
    registry.faults.update({1: Reply(503, b"down"), 2: Reply(503, b"down"), 3: Reply(503, b"down")})
    with Loopback(registry) as server:
        code, out, err = crawl(server, db, "--attempts", "3")
    assert code == 4 and "2 retries" in out and "gave up after 3 attempts" in err, (out, err)
