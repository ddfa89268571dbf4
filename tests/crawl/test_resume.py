"""A crawl killed mid-way (SIGKILL, SIGTERM) resumes where it stopped, losing and duplicating
nothing; two crawls of one catalogue never run at once."""

import json
import signal
import time

import pytest

from .conftest import FAST, query, spawn
from .loopback import Loopback, Registry


def wait_for(condition, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def stored_servers(db):
    try:
        return query(db, "SELECT count(*) FROM servers")[0][0]
    except Exception:  # not created yet, or mid-write
        return 0


@pytest.mark.parametrize("kill", [signal.SIGKILL, signal.SIGTERM])
def test_a_killed_crawl_resumes_where_it_stopped_and_loses_nothing(db, kill):
    registry = Registry(1500, page_delay=0.05)  # 15 pages
    with Loopback(registry) as server:
        first = spawn("crawl", "registry", "--url", server.url, "--db", db, *FAST)
        assert wait_for(lambda: stored_servers(db) >= 500), first.communicate()
        first.send_signal(kill)
        _, err = first.communicate(timeout=20)
        killed_at = len(server.requests)
        stored = stored_servers(db)
        assert 500 <= stored < 1500
        state = json.loads(query(db, "SELECT state FROM sources")[0][0])
        assert state["resume"]["page"] * 100 == stored  # the checkpoint is exactly what was stored
        if kill == signal.SIGTERM:  # a clean stop: exit 130, the run closed there and then
            assert first.returncode == 130, err
            # and a quiet one: in-flight requests cancelled and awaited, no asyncio complaint
            assert "next crawl resumes" in err and "Task exception" not in err and "Traceback" not in err, err
            assert query(db, "SELECT status FROM crawl_runs") == [("interrupted",)]
        else:  # no chance to say anything: the next crawl marks the run interrupted
            assert first.returncode == -signal.SIGKILL
            assert query(db, "SELECT status FROM crawl_runs") == [("running",)]

        second = spawn("crawl", "registry", "--url", server.url, "--db", db, *FAST)
        out, err = second.communicate(timeout=60)
        resumed = server.requests[killed_at:]
    assert second.returncode == 0, err
    assert resumed[0].query.get("cursor") == state["resume"]["cursor"]  # not from the start
    assert len(resumed) == 15 - stored // 100
    assert query(db, "SELECT count(*), count(DISTINCT name) FROM servers") == [(1500, 1500)]
    assert query(db, "SELECT count(*) FROM server_sources") == [(1500,)]
    assert query(db, "SELECT count(*) FROM server_aliases WHERE kind = 'registry'") == [(1500,)]
    assert query(db, "SELECT status FROM crawl_runs ORDER BY id") == [("interrupted",), ("ok",)]


def test_two_crawls_at_once_the_second_is_refused_with_exit_5(db):
    registry = Registry(800, page_delay=0.1)
    with Loopback(registry) as server:
        first = spawn("crawl", "registry", "--url", server.url, "--db", db, *FAST)
        assert wait_for(lambda: stored_servers(db) >= 100)
        second = spawn("crawl", "registry", "--url", server.url, "--db", db, *FAST)
        out, err = second.communicate(timeout=30)
        assert second.returncode == 5, (out, err)
        assert "another crawl is writing" in err and f"by process {first.pid}" in err
        out, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    assert query(db, "SELECT count(*), count(DISTINCT name) FROM servers") == [(800, 800)]
    assert query(db, "SELECT status FROM crawl_runs") == [("ok",)]  # the refused crawl wrote nothing


def test_a_stop_inside_a_request_task_ends_quietly(capfd, caplog):
    """SIGTERM lands in whichever task runs, often a request in flight: that task dies with the
    stop and nobody awaits it. No "Task exception was never retrieved" follows the crawl's message."""
    import asyncio
    import gc

    from mcp_risk.crawler.pages import crawl_pages

    class Stopped:
        name = kind = location = "stopped"

        async def pages(self, http, state):
            async def in_flight():
                raise KeyboardInterrupt  # what the SIGTERM handler raises, inside the request's task
            task = asyncio.ensure_future(in_flight())
            await asyncio.sleep(0.05)
            yield await task

    with pytest.raises(KeyboardInterrupt):
        list(crawl_pages(Stopped(), {}))
    gc.collect()
    said = capfd.readouterr().err + caplog.text  # asyncio says it through logging
    assert "Task exception was never retrieved" not in said
