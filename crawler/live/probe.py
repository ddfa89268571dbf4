"""Probe many servers at once, bounded, each failure isolated in its own result.

    results = probe_servers(specs, Limits(timeout=20), concurrency=8)

Servers start at once (up to `concurrency`); only then is the `mcp` SDK imported, in a worker thread
while they boot (an import started earlier would hold the interpreter while they are spawned), so a
whole config takes about as long as its slowest server. `meanwhile`, the caller's own preparation
(the CLI's catalogue and classifier), runs in that thread after the SDK, still while servers boot.
"""

import anyio

from . import client
from .result import ProbeResult
from .sandbox import Limits, default_cache_dir, network_isolation_prefix

DEFAULT_CONCURRENCY = 8


def probe_servers(specs, limits=None, *, concurrency=DEFAULT_CONCURRENCY, allow_exec=False,
                  cache_dir=None, progress=None, meanwhile=None):
    """Probe every spec; one ProbeResult each, in the order given.

    Specs built from registry data (`from_registry`) run only with `allow_exec`. `cache_dir` holds
    the package caches sandboxed servers share (default: mcp-risk's own, never the user's); pass
    False for none at all. `progress(result)` is called as each server is done. `meanwhile()` is
    called in a worker thread once the servers are started and the SDK is loaded; what it raises is
    ignored. Raises ManifestError only for a request this machine cannot honour (`no_network` where
    namespaces are unavailable).
    """
    limits = limits or Limits()
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    if limits.no_network and any(not s.remote and not s.problem for s in specs):
        network_isolation_prefix()  # fail once, clearly, before starting anything
    if cache_dir is None:
        cache_dir = default_cache_dir()
    elif cache_dir is False:
        cache_dir = None
    return anyio.run(_probe_all, list(specs), limits, concurrency, allow_exec, cache_dir, progress, meanwhile)


_SPAWN_WAIT_S = 1.0  # the SDK is loaded after this even if a server is still being started


async def _probe_all(specs, limits, concurrency, allow_exec, cache_dir, progress, meanwhile):
    results = [None] * len(specs)
    slots = anyio.Semaphore(concurrency)
    sdk_ready = anyio.Event()
    sdk_error = []
    first_wave = [min(concurrency, len(specs))]  # servers that start at once, before the SDK is loaded
    all_started = anyio.Event()
    if not specs:
        all_started.set()

    def started():
        first_wave[0] -= 1
        if first_wave[0] <= 0:
            all_started.set()

    async def load():
        with anyio.move_on_after(_SPAWN_WAIT_S):
            await all_started.wait()
        try:
            await anyio.to_thread.run_sync(client.load_sdk)
        except ImportError as error:
            sdk_error.append(f"the mcp SDK cannot be imported ({error}); reinstall mcp-risk")
        finally:
            sdk_ready.set()
        if meanwhile is not None:
            try:
                await anyio.to_thread.run_sync(meanwhile)
            except Exception:  # noqa: BLE001  the caller's own path meets and reports the same error
                pass

    async def one(index, spec):
        once = [started]

        def on_start():
            if once:
                once.pop()()

        async with slots:
            if spec.from_registry and not allow_exec:
                result = ProbeResult(spec=spec, error=refusal(spec))
            elif sdk_error:
                result = ProbeResult(spec=spec, error=sdk_error[0])
            else:
                result = await client.probe(spec, limits, cache_dir=cache_dir, sdk_ready=sdk_ready, on_start=on_start)
                if sdk_error and result.error:
                    result.error = sdk_error[0]
            on_start()  # not started (refused, a config problem, remote, or failed to start): not waited for
        results[index] = result
        if progress is not None:
            progress(result)

    async with anyio.create_task_group() as group:
        group.start_soon(load)
        for index, spec in enumerate(specs):
            group.start_soon(one, index, spec)
    return results


def refusal(spec):
    what = f"run `{' '.join([spec.command, *spec.args])}`" if spec.command else f"connect to {spec.url}"
    return f"comes from registry data: would {what}; pass --allow-exec to allow it"
