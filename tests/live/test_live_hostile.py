"""Hostile servers, all in one scan with good ones: none hangs it, each is reported, the good ones are
still scanned, and no process of any of them is left behind."""

import time

import pytest

from mcp_risk import classifier
from mcp_risk.crawler.live import Limits, probe_servers, spec_from_entry

from .conftest import alive, needs_linux, raw_entry, sdk_entry, state

TIMEOUT = 10.0
LIMITS = Limits(timeout=TIMEOUT, max_output_bytes=16 << 20, max_pages=200)
HOSTILE = {
    "silent": ("silent",),
    "flood": ("flood",),
    "stderr-flood": ("stderr_flood",),
    "garbage": ("garbage",),
    "crash": ("crash",),
    "many": ("many",),
    "injection": ("injection",),
    "orphan": ("orphan",),
    "orphan-exit": ("orphan", "exit"),
    "cursor-loop": ("cursor_loop",),
    "cursor-endless": ("cursor_endless",),
}


@pytest.fixture(scope="module")
def scan(tmp_path_factory):
    """One scan of every hostile server plus a good one; (results by name, seconds, pids seen)."""
    pidfile = tmp_path_factory.mktemp("hostile") / "pids"
    pidfile.touch()
    specs = [spec_from_entry(name, raw_entry(*args, env={"PIDFILE": str(pidfile)}), origin="test")
             for name, args in HOSTILE.items()]
    specs.append(spec_from_entry("good", sdk_entry("server-memory.json", page_size=4), origin="test"))
    started = time.perf_counter()
    results = probe_servers(specs, LIMITS, concurrency=16, cache_dir=False)
    elapsed = time.perf_counter() - started
    pids = [int(p) for p in pidfile.read_text().split()]
    return {r.name: r for r in results}, elapsed, pids


def test_no_server_hangs_the_scan(scan):
    results, elapsed, _ = scan
    assert len(results) == len(HOSTILE) + 1
    # Every server ends by its timeout at the latest; stopping them all takes little more.
    assert elapsed < TIMEOUT + 4, elapsed


def test_the_good_server_is_still_scanned(scan):
    good = scan[0]["good"]
    assert good.ok, good.error
    assert len(good.tools) == 9 and good.protocol_version == "2026-07-28"


@needs_linux
def test_no_process_is_left_behind(scan):
    _, _, pids = scan
    # Every raw server wrote its pid, the double-forked daemons of `orphan` theirs too.
    assert len(pids) >= len(HOSTILE) + 2
    survivors = {pid: state(pid) for pid in pids if alive(pid)}
    assert not survivors, f"still running after the scan: {survivors}"


@pytest.mark.parametrize("name, says", [
    ("silent", f"no answer within {TIMEOUT:g} s (waited to answer the handshake)"),
    ("flood", "sent more than 16,777,216 bytes; stopped"),
    ("stderr-flood", "sent more than 16,777,216 bytes; stopped"),
    ("crash", "server exited with status 3 during tools/list page 2 (stderr: fatal: lost the tool registry)"),
    ("orphan-exit", "server exited with status 0 during handshake"),
    ("cursor-loop", "tools/list page 2 repeats an earlier cursor: the listing never ends"),
    ("cursor-endless", "tools/list still had more after 200 pages; stopped"),
])
def test_each_bad_server_gets_a_clear_error(scan, name, says):
    result = scan[0][name]
    assert not result.ok
    assert says in result.error, result.error
    assert result.tools is None and result.manifest().tools is None  # a partial list is never stored as the list


def test_garbage_on_stdout_is_skipped_and_noted(scan):
    result = scan[0]["garbage"]
    assert result.ok, result.error
    assert len(result.tools) == 9
    assert result.warnings == ["skipped 7 line(s) on stdout that were not JSON-RPC"]


def test_ten_thousand_tools_are_all_listed(scan):
    result = scan[0]["many"]
    assert result.ok, result.error
    assert len(result.tools) == 10_000 and len({t["name"] for t in result.tools}) == 10_000


def test_a_surviving_child_does_not_spoil_the_result(scan):
    result = scan[0]["orphan"]
    assert result.ok, result.error
    assert len(result.tools) == 9


def test_prompt_injections_are_data_and_get_flagged(scan):
    result = scan[0]["injection"]
    assert result.ok, result.error
    flagged = {t["name"]: classifier.classify(t).flags for t in result.tools}
    assert "suspicious_instructions" in flagged["add"]
    assert "suspicious_instructions" in flagged["get_fact_of_the_day"]
    assert result.server_info["name"].startswith("\x1b]0;owned")  # kept as given; cleaned only for display
