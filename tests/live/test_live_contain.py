"""The run-phase sandboxes of `crawl live`: a server's setsid'd, double-forked descendant dies with it,
under bubblewrap and under the `unshare` sandbox alike; bubblewrap shows the system read-only and
gives no network."""

import asyncio
import os
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pytest

from mcp_risk.crawler.live import Limits
from mcp_risk.crawler.live.contain import containment
from mcp_risk.crawler.live.sandbox import ServerProcess

from .conftest import RAW, alive, needs_linux

pytestmark = needs_linux


def _tagged(token):
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/environ", "rb") as handle:
                    if f"MCP_RISK_TEST_TOKEN={token}".encode() in handle.read():
                        found.append(int(entry))
            except OSError:
                continue
    return [pid for pid in found if alive(pid)]


MODES = {"bwrap": Limits(timeout=10, bwrap=True), "unshare": Limits(timeout=10, no_network=True),
         "plain": Limits(timeout=10)}


@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("leader_exits", [False, True])
def test_double_forked_descendants_die_with_the_server(mode, leader_exits, tmp_path):
    if mode == "bwrap" and not shutil.which("bwrap"):
        pytest.skip("bubblewrap is not installed")
    token = secrets.token_hex(8)
    # Under bubblewrap the project folder is out of sight: the script goes where the package
    # cache would be, the one folder of the host a server sees.
    script = tmp_path / "raw_server.py"
    shutil.copyfile(RAW, script)

    async def run():
        args = [str(script), "orphan"] + (["exit"] if leader_exits else [])
        server = ServerProcess(sys.executable, args, {"MCP_RISK_TEST_TOKEN": token}, MODES[mode], cache_dir=tmp_path)
        await server.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(_tagged(token)) < 2 - leader_exits:
            await asyncio.sleep(0.05)
        during = _tagged(token)
        await server.stop()
        return during

    during = asyncio.run(run())
    assert during, "the daemon never started"
    time.sleep(0.2)
    assert not [pid for pid in during if alive(pid)]
    assert not _tagged(token)


def test_bubblewrap_is_read_only_and_offline(tmp_path):
    if containment() != "bwrap":
        pytest.skip("bubblewrap cannot make namespaces here")
    probe = ("import os, socket\n"
             "try:\n    open('/usr/mcp-risk-probe', 'w'); print('wrote')\nexcept OSError: print('read-only')\n"
             "try:\n    socket.create_connection(('127.0.0.1', 9), 1); print('net')\nexcept OSError: print('offline')\n"
             "print(os.listdir('/tmp'))\n")

    async def run():
        server = ServerProcess(sys.executable, ["-c", probe], {}, Limits(timeout=10, bwrap=True))
        process = await server.start()
        out = await asyncio.wait_for(process.stdout.read(), 10)
        await server.stop()
        return out.decode()

    out = asyncio.run(run())
    assert out.splitlines()[:2] == ["read-only", "offline"], out
    assert "mcp-risk-server-" in out and "pytest" not in out  # its own temporary root, nothing else of /tmp


def test_bubblewrap_hides_the_users_files_in_both_phases(tmp_path):
    """A stranger's install scripts (with network) and server (without) see no home, no project
    folder and no /run sockets; Python still runs."""
    if containment() != "bwrap":
        pytest.skip("bubblewrap cannot make namespaces here")
    import subprocess

    from mcp_risk.crawler.live.contain import bwrap_prefix, runner_path

    secret = Path.home() / f".mcp-risk-test-secret-{secrets.token_hex(4)}"
    secret.write_text("the user's own")
    try:
        probe = (f"import os\nfor p in ({str(secret)!r}, {os.path.join(os.getcwd(), 'pyproject.toml')!r}, '/run'):\n"
                 "    print(p, os.path.exists(p) and (os.path.isdir(p) and os.listdir(p) or os.path.isfile(p)))\n")
        for network in (False, True):
            done = subprocess.run([*bwrap_prefix([tmp_path], network=network), sys.executable, "-c", probe],
                                  capture_output=True, text=True, timeout=30)
            assert done.returncode == 0, done.stderr
            shown = dict(line.rsplit(" ", 1) for line in done.stdout.splitlines())
            assert set(shown.values()) == {"False"} or all(v in ("False", "[]") for v in shown.values()), shown
            # ...but the package runners still run, wherever the checkout is (under /tmp in CI's clone)
            for runner in filter(None, (runner_path("uvx"), runner_path("npx"))):
                seen = subprocess.run([*bwrap_prefix([tmp_path], network=network), runner, "--version"],
                                      capture_output=True, text=True, timeout=60)
                assert seen.returncode == 0, (runner, seen.stderr)
    finally:
        secret.unlink()


@pytest.mark.parametrize("way", ["bwrap", "unshare"])
def test_loader_variables_reach_the_server_inside_never_the_sandbox_tool_on_the_host(way):
    # LD_PRELOAD given to bwrap or unshare would load a library on the host, outside every namespace.
    if way == "bwrap" and containment() != "bwrap":
        pytest.skip("bubblewrap cannot make namespaces here")
    if way == "unshare":
        from mcp_risk.crawler.live.sandbox import network_isolation_prefix

        try:
            network_isolation_prefix()
        except Exception:
            pytest.skip("no unshare namespaces here")
    planted = "/nonexistent/mcp-risk-planted.so"
    probe = "import os, sys\nprint(os.environ.get('LD_PRELOAD'), os.environ.get('GCONV_PATH'), flush=True)\nsys.stdin.read()\n"
    limits = Limits(timeout=10, bwrap=way == "bwrap", no_network=way == "unshare")

    async def run():
        server = ServerProcess(sys.executable, ["-c", probe], {"LD_PRELOAD": planted, "GCONV_PATH": "/nonexistent"},
                               limits)
        process = await server.start()
        try:
            line = await asyncio.wait_for(process.stdout.readline(), 10)
            with open(f"/proc/{process.pid}/environ", "rb") as handle:  # bwrap or unshare itself, on the host
                host = handle.read().split(b"\0")
            with open(f"/proc/{process.pid}/cmdline", "rb") as handle:
                tool = handle.read().split(b"\0")[0]
        finally:
            await server.stop()
        return line.decode().split(), host, tool

    inside, host, tool = asyncio.run(run())
    assert Path(tool.decode()).name == way
    assert inside == [planted, "/nonexistent"]
    assert not [v for v in host if v.startswith((b"LD_", b"GCONV_PATH="))], host


def test_a_home_or_working_folder_under_var_is_masked_too_and_path_cannot_undo_it(monkeypatch):
    # CI service accounts live in /var/lib/...; `.` or the home itself on PATH must not re-bind it.
    from mcp_risk.crawler.live.contain import _needed_places, _private_places

    home = Path(tempfile.mkdtemp(prefix="mcp-risk-home-", dir="/var/tmp"))
    work = home / "project"
    work.mkdir()
    try:
        monkeypatch.setenv("HOME", str(home))
        monkeypatch.chdir(work)
        monkeypatch.setenv("PATH", os.pathsep.join([".", str(home), os.environ["PATH"]]))
        masked = _private_places()
        assert str(home) in masked and "/var" not in masked and ("/mnt" in masked) == os.path.isdir("/mnt")
        assert not [folder for folder in _needed_places(masked) if folder.startswith(str(home))]
        monkeypatch.chdir("/usr")  # a runtime's folder: never masked
        assert not [p for p in _private_places() if p.startswith("/usr")]
    finally:
        shutil.rmtree(home)


_INSTALL_CHILD = """
import asyncio, resource, sys
from mcp_risk.crawler.live import Limits, spec_from_entry
from mcp_risk.crawler.live.contain import install
spec = spec_from_entry("flood", {"command": "npx", "args": ["-y", "some-package"]}, origin="test")
error = asyncio.run(install(spec, sys.argv[1], Limits(), 60))
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss >> 10)
print(error)
"""


def test_an_installer_flooding_stderr_costs_bounded_memory_and_its_last_line_is_the_error(shim_bin, tmp_path):
    # A fresh process, so its peak memory is the install's alone: 400 MB of stderr, then the error.
    flood = 400
    npx = shim_bin / "npx"
    npx.write_text(f"#!/bin/sh\nhead -c {flood}000000 /dev/zero | tr '\\\\0' x >&2\n"
                   "echo >&2; echo 'npm ERR! 404 Not Found - some-package' >&2\nexit 1\n")
    npx.chmod(0o755)
    import subprocess

    done = subprocess.run([sys.executable, "-c", _INSTALL_CHILD, str(tmp_path / "cache")],
                          capture_output=True, text=True, timeout=100)
    assert done.returncode == 0, done.stderr
    peak_mb, error = done.stdout.splitlines()
    assert error == "install failed (exit 1): npm ERR! 404 Not Found - some-package"
    # About 100-130 MB with the tail kept (Python and the SDK), about twice the flood without it.
    assert int(peak_mb) < flood * 5 // 8, f"peak {peak_mb} MB for {flood} MB of stderr"


def test_a_bubblewrap_refusing_the_options_a_probe_uses_is_found_by_the_check(shim_bin, capfd):
    # bubblewrap 0.6 has no --size: the check must run what a probe runs, not a plainer command.
    real = shutil.which("bwrap")
    containment.cache_clear()
    if real is None or containment() != "bwrap":
        pytest.skip("bubblewrap cannot make namespaces here")
    old = shim_bin / "bwrap"
    old.write_text('#!/bin/sh\nfor a in "$@"; do [ "$a" = --size ] && { echo "bwrap: Unknown option --size" >&2; '
                   f'exit 1; }}; done\nexec {real} "$@"\n')
    old.chmod(0o755)
    containment.cache_clear()
    capfd.readouterr()
    try:
        from mcp_risk.crawler import ManifestError

        try:
            chosen = containment()
        except ManifestError:
            chosen = "none"
        assert chosen != "bwrap"
        assert "Unknown option --size" in capfd.readouterr().err
    finally:
        containment.cache_clear()
