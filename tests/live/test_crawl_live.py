"""`mcp-risk crawl live`: a loopback registry (the real v0.1 shape) listing real packages installed
from PyPI and npm, plus hostile entries; probed locally and through a real Dask scheduler with two
workers on 127.0.0.1 (one killed mid-job). Installs share one session-wide cache."""

import copy
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crawl.loopback import OFFICIAL, Loopback, Registry, reference

from .conftest import RAW, alive

BIN = Path(sys.executable).parent
TIME = {"registryType": "pypi", "identifier": "mcp-server-time", "version": "2026.10.19",
        "transport": {"type": "stdio"}}
MEMORY = {"registryType": "npm", "identifier": "@modelcontextprotocol/server-memory", "version": "2026.8.31",
          "transport": {"type": "stdio"},
          "environmentVariables": [{"name": "MEMORY_API_KEY", "isRequired": True, "isSecret": True,
                                    "description": "not needed by the server; a dummy must be given"}]}
REAL = ("io.github.modelcontextprotocol/time", "io.github.modelcontextprotocol/memory")

pytestmark = pytest.mark.timeout(300)


def _server(name, packages=None, remotes=None):
    seed = copy.deepcopy(reference("official_registry_seed.example.json")[0])
    seed["name"] = name
    seed["repository"]["url"] = f"https://github.com/{name.split('/')[-1]}/x.git"
    seed["packages"] = packages or []
    if remotes:
        seed["remotes"] = remotes
    else:
        seed.pop("remotes", None)
    return {"server": seed, "_meta": {OFFICIAL: {"status": "active", "publishedAt": "2026-01-01T00:00:00.000Z",
                                                 "updatedAt": "2026-01-01T00:00:00.000Z", "isLatest": True}}}


class _Silent:
    """A TCP endpoint on 127.0.0.1 that accepts connections and never answers a byte."""

    def __enter__(self):
        import threading

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.held = []
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def _accept(self):
        while True:
            try:
                self.held.append(self.sock.accept()[0])
            except OSError:
                return

    def __exit__(self, *exc):
        self.sock.close()
        for conn in self.held:
            conn.close()


@pytest.fixture(scope="module")
def hang():
    with _Silent() as server:
        yield server


def registry_entries(hang_url):
    huge = {**TIME, "packageArguments": [{"type": "positional", "value": "x" * 100}] * 500}
    return [
        _server(REAL[0], [TIME]),
        _server(REAL[1], [MEMORY]),
        _server("io.github.hostile/shell", [{**TIME, "identifier": "mcp-server-time; touch /tmp/pwned"}]),
        _server("io.github.hostile/huge", [huge]),
        _server("io.github.hostile/silent", remotes=[{"type": "streamable-http", "url": f"{hang_url}/mcp"}]),
    ]


@pytest.fixture(scope="module")
def registry(hang):
    loopback = Registry(count=0)
    loopback.entries = registry_entries(hang.url)
    with Loopback(loopback) as server:
        yield server


@pytest.fixture(scope="session")
def server_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("server-cache")


def cli(*args, timeout=240, path=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MCP_RISK")}
    if path is not None:
        env["PATH"] = path
    return subprocess.run([str(BIN / "mcp-risk"), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=env)


def crawled(tmp_path, registry):
    db = tmp_path / "c.db"
    done = cli("crawl", "registry", "--url", registry.url, "--rate", "0", "--db", db)
    assert done.returncode == 0, done.stderr
    return db


def live_tools(db):
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT s.name, t.name FROM tools t JOIN servers s ON s.id = t.server_id "
                        "JOIN sources so ON so.id = t.source_id WHERE so.kind = 'live' AND t.status = 'listed'").fetchall()
    conn.close()
    out = {}
    for server, tool in rows:
        out.setdefault(server, set()).add(tool)
    return out


def last_run(db):
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    runs = conn.execute("SELECT r.errors FROM crawl_runs r JOIN sources s ON s.id = r.source_id "
                        "WHERE s.kind = 'live' ORDER BY r.id").fetchall()
    records = dict(conn.execute("SELECT s.name, ss.record FROM server_sources ss JOIN servers s ON s.id = ss.server_id "
                                "JOIN sources so ON so.id = ss.source_id WHERE so.kind = 'live'").fetchall())
    conn.close()
    errors = [error for (text,) in runs for error in json.loads(text or "[]")]  # a resumed crawl's runs together
    return errors, {k: json.loads(v) for k, v in records.items()}


def check_result(db):
    tools = live_tools(db)
    assert {"get_current_time", "convert_time"} <= tools[REAL[0]]
    assert {"create_entities", "read_graph"} <= tools[REAL[1]]
    assert set(tools) == set(REAL)
    _, records = last_run(db)
    text = json.dumps(records)
    assert "hostile/shell" in text and "not a plain package name" in text
    assert "hostile/huge" in text and "packageArguments" in text
    assert records["io.github.hostile/silent"]["error"].startswith("no answer within")
    for name in REAL:
        assert records[name]["containment"] == "bwrap"
        assert "error" not in records[name]
    assert "mcp-risk-dummy-memory_api_key" not in json.dumps(records)  # values never stored
    assert not os.path.exists("/tmp/pwned")


def test_help_says_it_needs_allow_exec(tmp_path):
    shown = cli("crawl", "live", "--help")
    text = "".join(shown.stdout.split())
    assert "Required:thisinstallsandrunscode" in text and "(needs--allow-exec)" in text
    refused = cli("crawl", "live", "--db", tmp_path / "c.db")
    assert refused.returncode == 2 and "--allow-exec" in refused.stderr


def test_crawl_live_stores_real_tools_and_reports_hostile_entries(tmp_path, registry, server_cache):
    db = crawled(tmp_path, registry)
    done = cli("crawl", "live", "--allow-exec", "--cache-dir", server_cache, "--timeout", "10", "--db", db)
    assert done.returncode == 3, done.stderr  # partial: the hostile ones are named in the run
    check_result(db)
    again = cli("crawl", "live", "--allow-exec", "--cache-dir", server_cache, "--timeout", "10", "--db", db)
    assert again.returncode == 0, again.stderr  # nothing is due again before --max-age
    assert "0 servers" in again.stderr or "0 servers" in again.stdout
    time.sleep(1.1)
    stale = cli("crawl", "live", "--allow-exec", "--cache-dir", server_cache, "--timeout", "10", "--max-age", "1s",
                "--db", db)
    seen = re.search(r"(\d+) servers? \(", stale.stderr + stale.stdout)
    assert stale.returncode == 3 and seen and int(seen.group(1)) == 5, stale.stderr  # our own probes, due again
    check_result(db)


def test_a_failure_of_this_machine_is_tried_again_by_the_next_crawl(tmp_path, registry, server_cache):
    """No npx here (PATH: one folder holding everything on ours but npx): nothing was learnt of the
    npm server, so it is not stamped probed for --max-age; the PyPI one (uvx beside our Python) is."""
    tools = tmp_path / "bin"
    tools.mkdir()
    for folder in os.environ["PATH"].split(os.pathsep):
        for entry in os.scandir(folder) if os.path.isdir(folder) else ():
            if entry.name != "npx" and not (tools / entry.name).exists():
                (tools / entry.name).symlink_to(entry.path)
    db = crawled(tmp_path, registry)
    args = ("crawl", "live", "--allow-exec", "--cache-dir", server_cache, "--timeout", "10", "--db", db)
    for stored in (1, 0):  # the second time only the npm server is due, and nothing of it is stored
        done = cli(*args, "--server", REAL[0], "--server", REAL[1], path=str(tools))
        assert done.returncode == 3, done.stderr
        assert f"{REAL[1]}: cannot install: npx is not installed here (tried again next crawl)" in done.stderr
        seen = re.search(r"(\d+) servers? \(", done.stderr + done.stdout)
        assert seen and int(seen.group(1)) == stored, done.stderr + done.stdout
    assert set(live_tools(db)) == {REAL[0]}
    done = cli(*args, "--server", REAL[1])  # npx back: probed now
    assert done.returncode == 0, done.stderr
    assert set(live_tools(db)) == set(REAL)


def test_crawl_live_resumes_after_sigkill(tmp_path, registry, server_cache):
    db = crawled(tmp_path, registry)
    process = subprocess.Popen([str(BIN / "mcp-risk"), "crawl", "live", "--allow-exec", "--cache-dir", str(server_cache),
                                "--timeout", "10", "-j", "1", "--db", str(db)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not live_tools(db):
        time.sleep(0.2)
    assert live_tools(db), "the first server was never stored"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    first = set(live_tools(db))
    assert len(first) == 1  # killed after the first of the two real servers: the second is left to resume
    done = cli("crawl", "live", "--allow-exec", "--cache-dir", server_cache, "--timeout", "10", "--db", db)
    assert done.returncode in (0, 3), done.stderr
    check_result(db)
    assert not [pid for pid in _descendants(1) if alive(pid) and _sandboxed(pid, server_cache)]


def _sandboxed(pid, cache):
    """A server of this crawl's: a process whose environment names the crawl's own package cache
    (other helpers' servers on a shared machine do not)."""
    try:
        with open(f"/proc/{pid}/environ", "rb") as handle:
            return str(cache).encode() in handle.read()
    except OSError:
        return False


def test_crawl_toml_live_source(tmp_path, registry, server_cache):
    db = crawled(tmp_path, registry)
    config = tmp_path / "crawl.toml"
    config.write_text(f'db = "c.db"\n[live]\nprobe_timeout = 10\ncache_dir = "{server_cache}"\n'
                      f'[[sources]]\nkind = "live"\n', encoding="utf-8")
    refused = cli("crawl", "--config", config)
    assert refused.returncode == 1 and "allow_exec" in refused.stderr
    config.write_text(config.read_text() + "allow_exec = true\n", encoding="utf-8")
    done = cli("crawl", "--config", config)
    assert done.returncode == 3, done.stderr
    check_result(db)


# -- Dask ----------------------------------------------------------------------------------------

def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _descendants(pid):
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as handle:
                    parent = int(handle.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry))
    found, stack = [], [pid]
    while stack:
        for child in children.get(stack.pop(), ()):
            found.append(child)
            stack.append(child)
    return found


@pytest.fixture
def cluster(tmp_path):
    pytest.importorskip("distributed")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    procs = [subprocess.Popen([str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--no-dashboard"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              cwd=tmp_path, env=env)]
    time.sleep(1.5)
    for index in range(2):
        procs.append(subprocess.Popen([str(BIN / "dask"), "worker", address, "--nthreads", "1", "--no-nanny",
                                       "--no-dashboard", "--host", "127.0.0.1", "--local-directory", str(tmp_path / f"w{index}")],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path, env=env))
    from distributed import Client

    try:
        with Client(address, timeout=30) as client:
            client.wait_for_workers(2, timeout=60)
            pids = {pid: worker for worker, pid in client.run(os.getpid).items()}
            yield address, client, {pids[proc.pid]: proc for proc in procs[1:]}
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


def _running_a_server(pid):
    """Processes under `pid` when one of them is a server's bubblewrap sandbox (the run phase)."""
    below = _descendants(pid)
    for child in below:
        try:
            with open(f"/proc/{child}/cmdline", "rb") as handle:
                if handle.read().split(b"\0")[0].endswith(b"bwrap"):
                    return below
        except OSError:
            continue
    return []


def test_crawl_live_through_dask_survives_a_killed_worker(tmp_path, registry, server_cache, cluster):
    """Two workers on 127.0.0.1; the one running a server is SIGKILLed mid-probe. The scheduler gives
    its task to the other worker, and the crawl still stores both real servers' tools."""
    address, watcher, workers = cluster
    db = crawled(tmp_path, registry)
    process = subprocess.Popen([str(BIN / "mcp-risk"), "crawl", "live", "--allow-exec", "--cluster", address,
                                "--cache-dir", str(server_cache), "--timeout", "10", "--db", str(db)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    victim = running = keys = None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and victim is None:
        for worker, held in watcher.processing().items():
            running = _running_a_server(workers[worker].pid) if held else []
            if running:
                victim, keys = worker, held
                break
        else:
            time.sleep(0.02)
    if victim is None:
        process.kill()
        pytest.fail(f"no worker ever ran a server: {process.communicate()}")
    workers[victim].kill()
    workers[victim].wait()
    out, err = process.communicate(timeout=240)
    assert process.returncode == 3, err  # partial: the hostile entries; not a failed task
    assert "task failed on the cluster" not in err
    check_result(db)
    (survivor,) = set(workers) - {victim}
    story = watcher.story(*keys)
    assert any(step[0] == "scheduler" and step[2] == "processing" and "worker-cleanup" in str(step[-2])
               for step in story), story  # taken back from the dead worker
    assert any(step[0] == survivor and step[2:4] == ("executing", "memory") for step in story), story  # done there
    time.sleep(0.5)
    assert not [pid for pid in running if alive(pid)]  # the killed worker's server died with it
