"""Fixtures for live probing: real servers of ours (SDK and raw), configs that name them, and a
check that no server process outlives a probe. Everything binds 127.0.0.1; nothing leaves the machine."""

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

HERE = Path(__file__).resolve().parent
SERVERS = HERE / "servers"
DATA = HERE / "data"
RAW = SERVERS / "raw_server.py"
SDK = SERVERS / "sdk_server.py"
TIME_SERVER = Path(sys.executable).parent / "mcp-server-time"  # installed by the `test` extra


def pytest_collection_modifyitems(items):
    # A hang is the failure these tests look for: never let one stall the suite.
    for item in items:
        if HERE in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.timeout(120))


def raw_entry(mode, *args, env=None):
    """A config entry (mcpServers style) that starts raw_server.py in MODE."""
    return {"command": sys.executable, "args": [str(RAW), mode, *args], "env": dict(env or {})}


def sdk_entry(*captures, page_size=5, env=None):
    """A config entry that starts the SDK server over stdio with tools of the given captures."""
    args = [str(SDK), "--page-size", str(page_size)]
    for capture in captures:
        args += ["--tools", str(DATA / capture)]
    return {"command": sys.executable, "args": args, "env": dict(env or {})}


def write_config(path, servers, key="mcpServers"):
    path.write_text(json.dumps({key: servers}, indent=2), encoding="utf-8")
    return path


def capture(name):
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def run_cli(*args):
    """The real CLI in-process; stdout and stderr apart."""
    from mcp_risk.cli import cli

    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


# -- processes ----------------------------------------------------------------------------------

def state(pid):
    """A process's state letter, or None when it is gone (a zombie, "Z", is dead too)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rsplit(b")", 1)[1].split()[0].decode()
    except OSError:
        return None


def alive(pid):
    return state(pid) not in (None, "Z")


def sandboxed_alive():
    """Live processes that carry the sandbox marker of a server this test process started."""
    tag = f"MCP_RISK_SANDBOX={os.getpid()}-".encode()
    found = []
    if not os.path.isdir("/proc/self"):
        return found
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as handle:
                tagged = tag in handle.read()
        except OSError:
            continue
        if tagged and alive(int(entry)):
            found.append(int(entry))
    return found


@pytest.fixture(autouse=True)
def own_cache_home(tmp_path, monkeypatch):
    """Package caches of sandboxed servers go to a temporary folder, not the tester's home."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))


@pytest.fixture(autouse=True)
def no_sandboxed_leftovers():
    yield
    left = sandboxed_alive()
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, f"sandboxed processes left running: {left}"


# -- HTTP servers (127.0.0.1 only) ------------------------------------------------------------------

def _start_http(*args):
    process = subprocess.Popen([sys.executable, str(SDK), *args], stdout=subprocess.PIPE, start_new_session=True)
    line = process.stdout.readline().decode()
    if not line.startswith("LISTENING "):
        process.kill()
        raise RuntimeError(f"test server did not start: {line!r}")
    return process, int(line.split()[1])


def _stop(process):
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(5)


@pytest.fixture(scope="session")
def http_server():
    """The SDK server over Streamable HTTP, demanding a header: (url, header name, value)."""
    process, port = _start_http("--transport", "http", "--tools", str(DATA / "server-github.json"),
                                "--page-size", "10", "--require-header", "X-Api-Key: k-123")
    yield f"http://127.0.0.1:{port}/mcp", "X-Api-Key", "k-123"
    _stop(process)


@pytest.fixture(scope="session")
def sse_server():
    """The SDK server over legacy SSE only (no Streamable HTTP endpoint)."""
    process, port = _start_http("--transport", "sse", "--tools", str(DATA / "cloudflare-docs.json"))
    yield f"http://127.0.0.1:{port}/sse"
    _stop(process)


@pytest.fixture
def shim_bin(tmp_path):
    """A folder of stand-in launchers put first on PATH, e.g. a `uvx` that records its argv."""
    folder = tmp_path / "bin"
    folder.mkdir()
    old = os.environ["PATH"]
    os.environ["PATH"] = f"{folder}{os.pathsep}{old}"
    yield folder
    os.environ["PATH"] = old


def uvx_shim(folder, log):
    """A stand-in `uvx` in `folder` that records how it was called, then runs the installed mcp-server-time."""
    shim = folder / "uvx"
    shim.write_text(f"#!/bin/sh\necho \"$@\" >> {log}\nexec {sys.executable} -m mcp_server_time\n")
    shim.chmod(0o755)


def network_namespaces_work():
    from mcp_risk.crawler import ManifestError
    from mcp_risk.crawler.live.sandbox import network_isolation_prefix

    try:
        network_isolation_prefix()
        return True
    except ManifestError:
        return False


needs_linux = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="process checks read /proc")
needs_time_server = pytest.mark.skipif(not TIME_SERVER.exists() and not shutil.which("mcp-server-time"),
                                       reason="mcp-server-time (test extra) is not installed")
