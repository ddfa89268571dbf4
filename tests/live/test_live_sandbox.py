"""The sandbox as a server sees it from inside: scrubbed env, temporary home and cwd, limits, its own
session, no network when asked; and from outside: every process of it killed, its folders gone."""

import json
import os
import socket
import sys
import tempfile
import time
from pathlib import Path

import anyio
import pytest

from mcp_risk.crawler.live import Limits, probe_servers, spec_from_entry
from mcp_risk.crawler.live.sandbox import ServerProcess

from .conftest import alive, needs_linux, network_namespaces_work, raw_entry

LIMITS = Limits(timeout=15, cpu_seconds=7, memory_bytes=1536 << 20, file_bytes=64 << 20)


def inside(entry, limits=LIMITS, **options):
    """What the raw `env` server reports about its own environment."""
    [result] = probe_servers([spec_from_entry("env", entry, origin="test")], limits, **options)
    assert result.ok, result.error
    return json.loads(result.tools[0]["description"])


def test_the_server_gets_path_and_its_named_env_and_nothing_else_of_ours(monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "ours-not-theirs")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_ours")
    report = inside(raw_entry("env", env={"NAMED_BY_CONFIG": "yes"}), cache_dir=tmp_path / "cache")
    env = report["env"]
    assert set(env) == {"PATH", "HOME", "TMPDIR", "LANG", "NAMED_BY_CONFIG", "MCP_RISK_SANDBOX",
                        "npm_config_cache", "UV_CACHE_DIR", "npm_config_update_notifier"}
    assert env["PATH"] == os.environ["PATH"] and env["NAMED_BY_CONFIG"] == "yes"
    assert env["npm_config_cache"] == str(tmp_path / "cache" / "npm")
    assert "ours-not-theirs" not in json.dumps(report) and "ghp_ours" not in json.dumps(report)


def test_home_and_working_directory_are_temporary_and_removed(tmp_path):
    report = inside(raw_entry("env"), cache_dir=False)
    home, work, tmp = Path(report["env"]["HOME"]), Path(report["cwd"]), Path(report["env"]["TMPDIR"])
    assert home.parent == work.parent == tmp.parent and home.parent.name.startswith("mcp-risk-server-")
    assert home.parent.parent == Path(tempfile.gettempdir()) and home != Path.home()
    assert not home.parent.exists()  # gone with the server


def test_limits_and_own_session_apply_inside():
    report = inside(raw_entry("env"), cache_dir=False)
    assert report["limits"] == {"RLIMIT_CPU": [7, 8], "RLIMIT_DATA": [1536 << 20, 1536 << 20],
                                "RLIMIT_FSIZE": [64 << 20, 64 << 20], "RLIMIT_CORE": [0, 0]}
    assert report["session"] == report["pid"]  # a session leader: one signal reaches all of it


def own_autogroup():
    """Our scheduling group's name, "" in the system's default group (the kernel prints nothing for
    it, as in a container whose processes never started a session), None without autogroup."""
    try:
        with open("/proc/self/autogroup", encoding="ascii") as handle:
            return (handle.read().split() or [""])[0]
    except OSError:
        return None


@pytest.mark.skipif(own_autogroup() is None, reason="no Linux autogroup scheduling here")
def test_the_server_yields_the_cpu_to_the_scanner_even_in_a_session_of_its_own():
    # A new session is a new scheduling group under Linux autogroup: the process's nice value alone
    # would rank it only against itself. Its group is niced as well.
    report = inside(raw_entry("env"), cache_dir=False)
    assert report["nice"] >= 10
    group, _, nice = report["autogroup"].split()
    assert group.startswith("/autogroup-") and group != own_autogroup() and int(nice) >= 10


@pytest.mark.parametrize("mode, says", [
    ("cpu", "server was killed by SIGXCPU (its CPU-time limit) during handshake"),
    ("memory", "(stderr: MemoryError)"),
])
def test_cpu_and_memory_limits_stop_a_greedy_server(mode, says):
    # A generous wall clock: the limit, not the timeout, has to be what stops it.
    limits = Limits(timeout=60, cpu_seconds=1, memory_bytes=256 << 20)
    started = time.perf_counter()
    [result] = probe_servers([spec_from_entry(mode, raw_entry(mode), origin="test")], limits, cache_dir=False)
    assert not result.ok and says in result.error, result.error
    assert time.perf_counter() - started < 30


def test_reserved_address_space_is_not_memory_used():
    # V8 reserves ~10 GiB of address space per WebAssembly instance (Node's fetch() loads one): a
    # server doing so must start under the memory limit, which counts the memory it writes.
    [result] = probe_servers([spec_from_entry("reserve", raw_entry("reserve"), origin="test")], LIMITS, cache_dir=False)
    assert result.ok, result.error
    assert len(result.tools) == 9


@pytest.fixture
def listener():
    """A socket listening on 127.0.0.1: the only address a server could try to reach here."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield sock.getsockname()[1]
    sock.close()


@pytest.mark.skipif(not network_namespaces_work(), reason="this system does not allow network namespaces")
def test_no_network_cuts_the_server_off(listener):
    specs = [spec_from_entry(name, raw_entry("netcheck", str(listener)), origin="test") for name in ("open", "closed")]
    open_result = probe_servers(specs[:1], LIMITS, cache_dir=False)[0]
    closed_result = probe_servers(specs[1:], Limits(timeout=15, no_network=True), cache_dir=False)[0]
    assert open_result.tools[0]["description"] == "reachable"
    assert closed_result.ok, closed_result.error
    assert closed_result.tools[0]["description"].startswith("unreachable")
    # Package runners are told to use their caches rather than wait for a registry they cannot reach.
    env = inside(raw_entry("env"), Limits(timeout=15, no_network=True), cache_dir=False)["env"]
    assert env["npm_config_offline"] == "true" and env["UV_OFFLINE"] == "1"


@needs_linux
def test_stop_kills_children_that_left_the_group_and_the_session(tmp_path):
    """`sh` starts a plain child, one in a new process group, and one in a new session whose
    parent exits at once (setsid -f): only the environment marker still ties that one to us."""
    pids = tmp_path / "pids"
    script = (f"sleep 300 & echo $! >> {pids}; "
              f"set -m; sleep 301 & echo $! >> {pids}; set +m; "
              f"setsid -f sh -c 'echo $$ >> {pids}; exec sleep 302'; "
              f"sleep 303")

    async def run():
        server = ServerProcess("sh", ["-c", script], {}, LIMITS)
        await server.start()
        with anyio.fail_after(5):
            while len(pids.read_text().split() if pids.exists() else []) < 3:
                await anyio.sleep(0.02)
        found = set(server.members())
        root = server.pid
        await server.stop()
        return found, root

    found, root = anyio.run(run)
    children = [int(p) for p in pids.read_text().split()]
    assert {root, *children} <= found
    assert not [pid for pid in [root, *children] if alive(pid)]


def test_a_server_that_cannot_start_leaves_no_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)  # re-read TMPDIR
    [result] = probe_servers([spec_from_entry("x", {"command": "/no/such/binary"}, origin="t")], LIMITS, cache_dir=False)
    assert "command not found" in result.error
    assert not list(tmp_path.iterdir())


def test_stderr_is_read_so_a_chatty_server_does_not_block():
    # 1 MiB on stderr before answering: more than a pipe holds.
    code = "import sys; sys.stderr.write('x' * (1 << 20)); sys.stderr.flush(); import runpy; " \
           f"sys.argv = ['raw', 'versioned', '2025-06-18']; runpy.run_path({str(Path(__file__).parent / 'servers' / 'raw_server.py')!r}, run_name='__main__')"
    [result] = probe_servers([spec_from_entry("chatty", {"command": sys.executable, "args": ["-c", code]}, origin="t")],
                             LIMITS, cache_dir=False)
    assert result.ok, result.error
    assert len(result.tools) == 14
