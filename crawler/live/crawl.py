"""`crawl live`: probe the servers a registry crawl stored, with tools unknown, for their tools.

A crawling source like the others (see `crawler.pages`): the catalogue hands it the registry's
servers (`use_servers`), it yields one page per server probed, and each page's checkpoint is the
time every server was last tried (`{"probed": {name: ISO time}}`), so a crawl killed at any point
(SIGKILL too) resumes with the servers it had not reached. A server is probed again once its last
try is older than `max_age`.

Each probe is a plain function, `probe_task(job, limits, cache_dir)`: install, then run contained
(see `contain`), list tools, return a ProbeResult. The local executor runs these on this event
loop, `concurrency` at a time; the Dask executor submits them to a `distributed` scheduler, whose
workers need no catalogue (only this process writes it); a worker that dies loses only the task it
held, which the scheduler runs again elsewhere.
"""

import asyncio
import json
import re
import secrets
import time
from dataclasses import dataclass, replace
from datetime import datetime, timezone

from ..manifest import ManifestError
from .configs import ServerSpec
from .result import ProbeResult
from .sandbox import Limits

NAME = "live-registry"
DEFAULT_MAX_AGE = 7 * 86400.0
DEFAULT_CONCURRENCY = 2
DEFAULT_INSTALL_TIMEOUT = 300.0


@dataclass(frozen=True)
class Job:
    """One server to probe: picklable, so a Dask worker can run it."""

    name: str  # the catalogue's name for it
    spec: ServerSpec
    install_timeout: float = DEFAULT_INSTALL_TIMEOUT


def probe_task(job, limits, cache_dir):
    """Install and probe one server, contained; a ProbeResult (never raises for the server's faults).
    A plain function: what a Dask worker runs."""
    import anyio

    return anyio.run(probe_job, job, limits, cache_dir)


_sdk_loaded = False


async def probe_job(job, limits, cache_dir):
    global _sdk_loaded
    import anyio

    from . import client
    from .contain import BWRAP, containment, install, install_argv, runner_path

    started = time.perf_counter()
    spec = job.spec
    mode = None
    if not spec.remote:
        try:
            mode = containment()
        except ManifestError as error:
            return _failed(job, f"cannot contain it here: {error}", started, ours=True)
        argv = install_argv(spec)
        if argv is not None and runner_path(argv[0]) is None:
            return _failed(job, f"cannot install: {argv[0]} is not installed here", started, mode, ours=True)
        error = await install(spec, cache_dir, limits, job.install_timeout)
        if error:
            return _failed(job, error, started, mode)
        spec = replace(spec, command=runner_path(spec.command) or spec.command)
        limits = replace(limits, bwrap=mode == BWRAP, no_network=mode != BWRAP)
    if not _sdk_loaded:
        await anyio.to_thread.run_sync(client.load_sdk)
        _sdk_loaded = True
    result = await client.probe(spec, limits, cache_dir=cache_dir)
    result.spec = job.spec
    result.containment = mode
    result.seconds = time.perf_counter() - started
    return result


def _failed(job, error, started, mode=None, *, ours=False):
    result = ProbeResult(spec=job.spec, error=error, seconds=time.perf_counter() - started, ours=ours)
    result.containment = mode
    return result


# -- executors --------------------------------------------------------------------------------

class LocalExecutor:
    """Probes on this machine, `concurrency` at a time, on the crawl's own event loop."""

    def __init__(self, concurrency=DEFAULT_CONCURRENCY):
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.concurrency = concurrency
        self.location = f"local, {concurrency} at a time"

    async def run(self, jobs, limits, cache_dir):
        """Yield (job, ProbeResult) as each finishes."""
        slots = asyncio.Semaphore(self.concurrency)
        done = asyncio.Queue()

        async def one(job):
            async with slots:
                try:
                    result = await probe_job(job, limits, cache_dir)
                except Exception as error:  # a bug of ours: that server's error, not the crawl's end
                    result = ProbeResult(spec=job.spec, error=f"probe failed: {type(error).__name__}: {error}")
            await done.put((job, result))

        tasks = [asyncio.ensure_future(one(job)) for job in jobs]
        try:
            for _ in tasks:
                yield await done.get()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


class DaskExecutor:
    """Probes as tasks of a Dask `distributed` scheduler (`tcp://HOST:8786`)."""

    def __init__(self, address, *, retries=2):
        self.address = scheduler_address(address)
        self.retries = retries
        self.location = f"dask {address}"

    async def run(self, jobs, limits, cache_dir):
        try:
            from distributed import Client, as_completed
        except ImportError:
            raise ManifestError("--cluster needs Dask: pip install 'mcp-risk[cluster]'") from None
        try:
            client = await Client(self.address, asynchronous=True, timeout=30)
        except (OSError, TimeoutError) as error:
            raise ManifestError(f"cannot reach the Dask scheduler at {self.address} ({error})") from None
        token = secrets.token_hex(4)
        try:
            futures, submitted = {}, []
            for index, job in enumerate(jobs):
                future = client.submit(probe_task, job, limits, cache_dir, key=f"mcp-risk-probe-{token}-{index}",
                                       pure=False, retries=self.retries)
                futures[future.key] = job
                submitted.append(future)
            if not submitted:
                return
            async for future in as_completed(submitted):
                job = futures[future.key]
                try:
                    result = await future
                except Exception as error:  # the task failed on every try (a worker died each time)
                    result = ProbeResult(spec=job.spec, error=f"task failed on the cluster: {type(error).__name__}: "
                                                              f"{str(error)[:200]}", ours=True)
                yield job, result
        finally:
            await client.close()


# What a Dask client dials: [tcp|tls|ws|wss|ucx://]HOST:PORT (an IPv6 host in brackets).
_SCHEDULER_ADDRESS = re.compile(r"((tcp|tls|ws|wss|ucx)://)?(\[[0-9A-Fa-f:.]+\]|[^\s/:\[\]@]+):\d{1,5}")


def scheduler_address(text):
    """A Dask scheduler address, checked here (ManifestError otherwise): Dask itself fails on
    `http://…` (its dashboard's address) with a traceback and warnings of coroutines never awaited."""
    address = str(text).strip()
    if not _SCHEDULER_ADDRESS.fullmatch(address):
        raise ManifestError(f"cluster {address!r} is not a Dask scheduler address: say tcp://HOST:8786"
                            + (" (http:// is its dashboard's)" if address.startswith(("http://", "https://")) else ""))
    return address


def make_executor(cluster=None, concurrency=DEFAULT_CONCURRENCY):
    return DaskExecutor(cluster) if cluster else LocalExecutor(concurrency)


# -- the source ---------------------------------------------------------------------------------

class LiveSource:
    """Registry servers in the catalogue, probed for their tools (see the module's docstring)."""

    kind = "live"

    def __init__(self, name=None, *, max_age=DEFAULT_MAX_AGE, executor=None, limits=None, cache_dir=None,
                 install_timeout=DEFAULT_INSTALL_TIMEOUT, only=None):
        self.name = name or NAME
        self.max_age = max_age
        self.executor = executor or LocalExecutor()
        self.limits = limits or Limits(timeout=60)
        self.cache_dir = cache_dir
        self.install_timeout = install_timeout
        self.only = set(only) if only else None
        self.location = self.executor.location
        self.servers = None

    def use_servers(self, servers):
        """The catalogue's registry servers: (name, stored record as JSON text, tools known)."""
        self.servers = list(servers)

    def plan(self, probed, now):
        """(jobs, [(name, error)]) for the servers due a probe."""
        from .registry import server_json_of, specs_from_server_json

        jobs, refused = [], []
        for name, record, tools_known in self.servers or ():
            if self.only is not None and name not in self.only:
                continue
            last = _parse_time(probed.get(name))
            if last is not None and (now - last).total_seconds() < self.max_age:
                continue
            if tools_known and last is None:
                continue  # tools another source listed; probed only once stale here
            try:
                document = json.loads(record) if record else None
                specs = specs_from_server_json(server_json_of(document) or {}, f"registry record of {name}")
            except (ValueError, ManifestError) as error:
                refused.append((name, str(error) if isinstance(error, ManifestError) else f"unreadable record ({error})"))
                continue
            spec = replace(specs[0], name=name)
            jobs.append(Job(name=name, spec=spec, install_timeout=self.install_timeout))
        return jobs, refused

    async def pages(self, http, state):
        from ..pages import Page

        if self.cache_dir is None:
            raise ManifestError("crawl live needs a cache folder for the servers' packages")
        now = datetime.now(timezone.utc)
        # Every try is kept, however old: `plan` tells a stale probe of ours (due again) from tools
        # another source listed (never probed), and a dropped entry would turn the one into the other.
        probed = dict(state.get("probed") or {})
        jobs, refused = self.plan(probed, now)
        stamp = _format_time(now)
        if refused:
            for name, _ in refused:
                probed[name] = stamp
            from ..manifest import ServerManifest
            from .result import SOURCE

            # Stored as this source's record too, so what was refused stays visible after a kill.
            yield Page(manifests=[ServerManifest(name=name, source=SOURCE, tools=None,
                                                 meta={"error": f"not probed: {why}"}) for name, why in refused],
                       state={"probed": dict(probed)},
                       errors=[f"{name}: not probed: {why}" for name, why in refused])
        async for job, result in self.executor.run(jobs, self.limits, str(self.cache_dir)):
            if result.ours:  # nothing learnt of the server: not stamped, so the next crawl tries it again
                yield Page(manifests=[], state={"probed": dict(probed)}, url=job.name,
                           errors=[f"{job.name}: {result.error} (tried again next crawl)"])
                continue
            probed[job.name] = _format_time(datetime.now(timezone.utc))
            errors = [] if result.ok else [f"{job.name}: {result.error}"]
            errors += [f"{job.name}: {warning}" for warning in result.warnings if "dropped a tool" in warning]
            yield Page(manifests=[result.manifest()], state={"probed": dict(probed)}, url=job.name, errors=errors)
        yield Page(manifests=[], state={"probed": dict(probed)}, done=True)


def _format_time(moment):
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _parse_time(text):
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def parse_age(text):
    """Seconds from "3600", "90s", "30m", "12h", "7d" (ManifestError otherwise)."""
    import re

    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", str(text))
    if not match:
        raise ManifestError(f"{text!r} is not an age: say 3600, 90s, 30m, 12h or 7d")
    return float(match[1]) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[match[2]]
