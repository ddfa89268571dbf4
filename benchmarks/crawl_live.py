"""Benchmark of `mcp-risk crawl live` (issue 13): servers probed per minute, and what 10,000 take.

Probes 20 real registry servers (npm and PyPI packages that install and list their tools without a
user's secret; those that require a key get the dummy value `crawl live` gives) with the probe
function `crawl live` runs, contained as it runs them (install phase into a cache, run phase under
bubblewrap without network), and prints:

  first pass        every server installed into an empty cache and probed, 2 at a time (skipped
                    when the cache is already warm: a rerun measures probing, not downloading)
  local, 1 / 2      servers per minute probing 1 and 2 at a time on this machine, installs cached
                    (the install phase still runs: with a warm cache it only checks the cache)
  dask, 2 workers   the same through a Dask scheduler and two single-thread workers on 127.0.0.1
                    that this script starts
  dask overhead     a trivial task's round trip through the scheduler, and one probe submitted as a
                    task against the same probe run directly in this process
  projection        wall time for 10,000 servers on 1, 8 and 64 workers, each worker probing one at
                    a time on its own core: 10,000 x (a probe's time alone + the task overhead) / N,
                    with cached installs and, from the first pass, with installs

Needs the network to the package registries for the first pass only. The cache folder is the
script's own (default /tmp/mcp-risk-bench-live), never the user's npm or uv cache.

    .venv/bin/python benchmarks/crawl_live.py [--cache-dir DIR] [--timeout 60]
"""

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def npm(identifier, version, *env, args=()):
    package = {"registryType": "npm", "identifier": identifier, "version": version, "transport": {"type": "stdio"}}
    if env:
        package["environmentVariables"] = [{"name": name, "isRequired": True, "isSecret": True} for name in env]
    if args:
        package["packageArguments"] = [{"type": "positional", "value": value} for value in args]
    return package


def pypi(identifier, version, *env):
    package = {"registryType": "pypi", "identifier": identifier, "version": version, "transport": {"type": "stdio"}}
    if env:
        package["environmentVariables"] = [{"name": name, "isRequired": True, "isSecret": True} for name in env]
    return package


# 20 servers as the official registry lists them (name, the package of its server.json).
SERVERS = [
    ("io.github.modelcontextprotocol/memory", npm("@modelcontextprotocol/server-memory", "2026.8.31")),
    ("io.github.modelcontextprotocol/filesystem", npm("@modelcontextprotocol/server-filesystem", "2026.8.31", args=("/tmp",))),
    ("io.github.modelcontextprotocol/sequential-thinking", npm("@modelcontextprotocol/server-sequential-thinking", "2026.8.31")),
    ("io.github.modelcontextprotocol/everything", npm("@modelcontextprotocol/server-everything", "2026.8.31")),
    ("io.github.modelcontextprotocol/github", npm("@modelcontextprotocol/server-github", "2025.4.8", "GITHUB_PERSONAL_ACCESS_TOKEN")),
    ("io.github.modelcontextprotocol/gitlab", npm("@modelcontextprotocol/server-gitlab", "2025.4.25", "GITLAB_PERSONAL_ACCESS_TOKEN")),
    ("io.github.modelcontextprotocol/brave-search", npm("@modelcontextprotocol/server-brave-search", "0.6.2", "BRAVE_API_KEY")),
    ("io.github.modelcontextprotocol/slack", npm("@modelcontextprotocol/server-slack", "2025.4.25", "SLACK_BOT_TOKEN", "SLACK_TEAM_ID")),
    ("io.github.modelcontextprotocol/google-maps", npm("@modelcontextprotocol/server-google-maps", "0.6.2", "GOOGLE_MAPS_API_KEY")),
    ("io.github.modelcontextprotocol/everart", npm("@modelcontextprotocol/server-everart", "0.6.2", "EVERART_API_KEY")),
    ("io.github.modelcontextprotocol/aws-kb-retrieval", npm("@modelcontextprotocol/server-aws-kb-retrieval", "0.6.2", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION")),
    ("io.github.upstash/context7", npm("@upstash/context7-mcp", "4.1.1")),
    ("io.github.makenotion/notion-mcp-server", npm("@notionhq/notion-mcp-server", "2.5.2")),
    ("io.github.brave/brave-search-mcp-server", npm("@brave/brave-search-mcp-server", "2.1.4", "BRAVE_API_KEY")),
    ("io.github.modelcontextprotocol/time", pypi("mcp-server-time", "2026.10.19")),
    ("io.github.modelcontextprotocol/fetch", pypi("mcp-server-fetch", "2026.10.24")),
    ("io.github.modelcontextprotocol/git", pypi("mcp-server-git", "2026.10.19")),
    ("io.github.awslabs/aws-documentation-mcp-server", pypi("awslabs.aws-documentation-mcp-server", "1.2.3")),
    ("io.github.nickclyde/duckduckgo-mcp-server", pypi("duckduckgo-mcp-server", "0.7.0")),
    ("io.github.githejie/mcp-server-calculator", pypi("mcp-server-calculator", "0.2.1")),
]


def jobs(timeout):
    from mcp_risk.crawler.live.crawl import Job
    from mcp_risk.crawler.live.registry import specs_from_server_json

    out = []
    for name, package in SERVERS:
        [spec] = specs_from_server_json({"name": name, "packages": [package]}, name)
        out.append(Job(name=name, spec=spec, install_timeout=300))
    return out


async def run(executor, work, limits, cache):
    results = {}
    async for job, result in executor.run(work, limits, str(cache)):
        results[job.name] = result
    return results


def timed(executor, work, limits, cache):
    started = time.perf_counter()
    results = asyncio.run(run(executor, work, limits, cache))
    return time.perf_counter() - started, results


def report(label, seconds, results, count):
    failed = {name: r.error for name, r in results.items() if not r.ok}
    tools = sum(len(r.tools or ()) for r in results.values())
    print(f"{label:<28} {seconds:7.1f} s  {60 * count / seconds:6.1f} servers/min  "
          f"({count - len(failed)}/{count} listed, {tools} tools)")
    for name, error in sorted(failed.items()):
        print(f"    {name}: {error[:160]}")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Cluster:
    """A Dask scheduler and `workers` single-thread workers on 127.0.0.1, as separate processes."""

    def __init__(self, workers=2):
        self.workers = workers

    def __enter__(self):
        port = free_port()
        self.address = f"tcp://127.0.0.1:{port}"
        self.folder = tempfile.mkdtemp(prefix="mcp-risk-bench-dask-")
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "cwd": self.folder}
        self.procs = [subprocess.Popen([str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                        "--no-dashboard"], **quiet)]
        for index in range(self.workers):
            self.procs.append(subprocess.Popen(
                [str(BIN / "dask"), "worker", self.address, "--nthreads", "1", "--no-nanny", "--no-dashboard",
                 "--host", "127.0.0.1", "--local-directory", f"{self.folder}/w{index}"], **quiet))
        from distributed import Client

        deadline = time.monotonic() + 60
        while True:
            try:
                with Client(self.address, timeout=5) as client:
                    client.wait_for_workers(self.workers, timeout=60)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        return self

    def __exit__(self, *exc):
        for proc in reversed(self.procs):
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(self.folder, ignore_errors=True)


def nothing():
    return None


def overhead(address, job, limits, cache, rounds=200, probes=5):
    """(trivial task round trip, a probe as a task, the same probe run directly), in seconds."""
    from distributed import Client

    from mcp_risk.crawler.live.crawl import probe_task

    with Client(address, timeout=30) as client:
        client.submit(nothing, pure=False).result()
        started = time.perf_counter()
        for _ in range(rounds):
            client.submit(nothing, pure=False).result()
        trivial = (time.perf_counter() - started) / rounds
        client.submit(probe_task, job, limits, str(cache), pure=False).result()  # the worker's imports
        as_task = []
        for _ in range(probes):
            started = time.perf_counter()
            client.submit(probe_task, job, limits, str(cache), pure=False).result()
            as_task.append(time.perf_counter() - started)
    probe_task(job, limits, str(cache))
    direct = []
    for _ in range(probes):
        started = time.perf_counter()
        probe_task(job, limits, str(cache))
        direct.append(time.perf_counter() - started)
    return trivial, statistics.median(as_task), statistics.median(direct)


def hours(seconds):
    return f"{seconds / 3600:7.2f} h" if seconds >= 3600 else f"{seconds / 60:7.1f} min"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "mcp-risk-bench-live")
    parser.add_argument("--timeout", type=float, default=60, help="seconds a server has to list its tools")
    parser.add_argument("--fresh", action="store_true", help="empty the cache first (measures installs too)")
    options = parser.parse_args()

    from mcp_risk.crawler.live.contain import containment
    from mcp_risk.crawler.live.crawl import DaskExecutor, LocalExecutor
    from mcp_risk.crawler.live.sandbox import Limits

    cache = options.cache_dir
    if options.fresh:
        shutil.rmtree(cache, ignore_errors=True)
    limits = Limits(timeout=options.timeout)
    work = jobs(options.timeout)
    count = len(work)
    marker = cache / ".warm"
    print(f"{count} registry servers; run phase under {containment()}; cache {cache}; {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.1f}")
    first = None
    if not marker.exists():
        first, results = timed(LocalExecutor(2), work, limits, cache)
        report("first pass (installs), 2", first, results, count)
        if all(r.ok for r in results.values()):
            marker.touch()
    else:
        print("first pass: skipped, the cache is warm (--fresh to measure installs)")
    one, results = timed(LocalExecutor(1), work, limits, cache)
    report("local, 1 at a time", one, results, count)
    two, results = timed(LocalExecutor(2), work, limits, cache)
    report("local, 2 at a time", two, results, count)
    with Cluster(2) as cluster:
        dask, results = timed(DaskExecutor(cluster.address), work, limits, cache)
        report("dask, 2 workers", dask, results, count)
        trivial, as_task, direct = overhead(cluster.address, work[0], limits, cache)
    print(f"dask overhead: trivial task round trip {1000 * trivial:.1f} ms; {work[0].name} probed as a task "
          f"{as_task:.2f} s against {direct:.2f} s directly ({1000 * (as_task - direct):+.0f} ms)")
    alone = one / count  # one probe at a time on an otherwise idle core
    per_task = max(trivial, as_task - direct, 0.0)
    print(f"projection for 10,000 servers (a probe alone {alone:.2f} s + task overhead {1000 * per_task:.0f} ms, "
          f"one probe per worker core):")
    for workers in (1, 8, 64):
        cached = 10_000 * (alone + per_task) / workers
        line = f"  {workers:>2} worker{'s' if workers > 1 else ' '}  installs cached {hours(cached)}"
        if first is not None:
            cold = 10_000 * (first * 2 / count + per_task) / workers  # first pass ran 2 at a time
            line += f"   with installs {hours(cold)}"
        print(line)


if __name__ == "__main__":
    main()
