"""Start an untrusted MCP server process, contained, and leave nothing of it behind.

A server gets: PATH plus the env its config names and nothing else of ours; a fresh temporary home,
working directory and TMPDIR; CPU, address-space and file-size limits, no core dumps; a session and
process group of its own; optionally (Linux, `no_network`) its own network and PID namespaces through
`unshare`, so it cannot reach the network and all its descendants die with it. Whatever it writes
counts against one byte budget. `stop()` kills every process that belongs to it: its group, its
session, its descendants, and anything still carrying its environment marker (a child that called
setsid and double-forked).
"""

import asyncio
import functools
import os
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from ..manifest import ManifestError

MARKER = "MCP_RISK_SANDBOX"  # env var tagging every process of one server: "<our pid>-<random>"
_STDERR_TAIL = 4096
_GRACE_S = 0.2  # after stdin closes and SIGTERM, before SIGKILL: enough for a well-behaved exit


@dataclass(frozen=True)
class Limits:
    """What one server may use. `timeout` is wall-clock seconds from start to its tools listed."""

    timeout: float = 30.0
    cpu_seconds: int = 60
    memory_bytes: int = 4 << 30
    file_bytes: int = 1 << 30
    max_output_bytes: int = 64 << 20
    max_tools: int = 50_000
    max_pages: int = 1_000
    no_network: bool = False
    bwrap: bool = False  # run under bubblewrap (see `contain`): read-only system, no network, own PID namespace


def default_cache_dir():
    """Where sandboxed servers keep package caches (npm, uv): ours, never the user's own."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "mcp-risk" / "servers"


# What glibc's loader and libc read from the environment to load code or files (its list of
# variables unsafe for a setuid program, as ld.so(8) and glibc's unsecvars.h have it).
_LOADER_VARIABLES = frozenset({"GCONV_PATH", "GETCONF_DIR", "GLIBC_TUNABLES", "HOSTALIASES", "LOCALDOMAIN",
                               "LOCPATH", "MALLOC_TRACE", "NIS_PATH", "NLSPATH", "RESOLV_HOST_CONF",
                               "RES_OPTIONS", "TZDIR"})


def loader_variable(name):
    return name.startswith("LD_") or name in _LOADER_VARIABLES


@functools.cache
def network_isolation_prefix():
    """The `unshare` command line that puts a server in new network and PID namespaces.

    Raises ManifestError when this platform cannot do it, naming why.
    """
    if not sys.platform.startswith("linux"):
        raise ManifestError(f"--no-network needs Linux network namespaces; not available on {sys.platform}")
    unshare = shutil.which("unshare")
    if unshare is None:
        raise ManifestError("--no-network needs the `unshare` command (util-linux); it is not on PATH")
    prefix = [unshare, "--net", "--pid", "--fork", "--kill-child"]
    if os.geteuid() != 0:
        prefix.insert(1, "--map-root-user")  # an unprivileged user namespace makes the others possible
    try:
        check = subprocess.run([*prefix, "--", "true"], capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise ManifestError(f"--no-network: cannot run unshare ({error})") from None
    if check.returncode != 0:
        why = check.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ManifestError(f"--no-network: this system refuses new namespaces ({why[-1] if why else check.returncode})")
    return (*prefix, "--")


_PR_SET_PDEATHSIG = 1


def _load_prctl():
    """libc's prctl, looked up before any fork: the child may not import or load anything."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


_PRCTL = _load_prctl()


# Memory is capped as the data a process writes (RLIMIT_DATA: on Linux its private writable
# mappings), not as the address space it reserves (RLIMIT_AS): V8 reserves about 10 GiB of
# inaccessible address space for each WebAssembly instance, so under RLIMIT_AS every Node server
# whose fetch() loads undici's Wasm parser dies at start ("Cannot allocate Wasm memory").
_MEMORY_LIMIT = resource.RLIMIT_DATA if sys.platform.startswith("linux") else resource.RLIMIT_AS


def _apply_limits(limits):
    """Runs in the child between fork and exec: a few system calls, nothing imported."""
    cpu = max(1, int(limits.cpu_seconds))
    for kind, value in ((resource.RLIMIT_CPU, (cpu, cpu + 1)),
                        (_MEMORY_LIMIT, (limits.memory_bytes,) * 2),
                        (resource.RLIMIT_FSIZE, (limits.file_bytes,) * 2),
                        (resource.RLIMIT_CORE, (0, 0))):
        try:
            resource.setrlimit(kind, value)
        except (ValueError, OSError):
            pass  # a limit this platform does not enforce (macOS and memory)
    # Untrusted code yields the CPU to the scanner: the probe's own work (loading the SDK,
    # speaking the protocol) stays on time however many servers boot at once. Where the kernel
    # groups scheduling by session (Linux autogroup), the server's new session is a group of its
    # own that competes with ours as an equal whatever its nice value: that group is niced too.
    try:
        os.nice(10)
    except OSError:
        pass
    try:
        group = os.open("/proc/self/autogroup", os.O_WRONLY)
    except OSError:
        group = None  # not Linux, or autogroup scheduling is off
    if group is not None:
        try:
            os.write(group, b"10")
        except OSError:
            pass
        finally:
            os.close(group)
    # If mcp-risk itself is killed (even by SIGKILL), the kernel kills the server too.
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


class ServerProcess:
    """One sandboxed server process and everything it spawns.

        server = ServerProcess(command, args, env, limits)
        process = await server.start()   # asyncio Process, pipes on stdin/stdout/stderr
        ...
        await server.stop()              # always: kills all of it, removes its temporary home
    """

    def __init__(self, command, args, env, limits, *, cache_dir=None):
        self.command = command
        self.args = list(args)
        self.config_env = dict(env)
        self.limits = limits
        self.cache_dir = cache_dir
        self.process = None
        self.failure = None  # why we stopped it early (output cap), when we did
        self.output_bytes = 0
        self._stderr = deque(maxlen=_STDERR_TAIL)
        self._stderr_task = None
        self._marker = f"{os.getpid()}-{secrets.token_hex(12)}"  # who started it, and which one
        self._root = None

    # -- starting --------------------------------------------------------------------------
    def environment(self, home, tmp):
        env = {
            "PATH": os.environ.get("PATH", os.defpath),
            "HOME": str(home),
            "TMPDIR": str(tmp),
            "LANG": "C.UTF-8",
        }
        if self.cache_dir is not None:
            cache = Path(self.cache_dir)
            env.update(npm_config_cache=str(cache / "npm"), UV_CACHE_DIR=str(cache / "uv"))
        env["npm_config_update_notifier"] = "false"
        if self.limits.no_network or self.limits.bwrap:  # no network: package runners must use their cache, not wait for a registry
            env.update(npm_config_offline="true", UV_OFFLINE="1")
        env.update(self.config_env)
        env[MARKER] = self._marker
        return env

    async def start(self):
        """Start the server; raises OSError (e.g. FileNotFoundError) when it cannot be started."""
        self._root = Path(tempfile.mkdtemp(prefix="mcp-risk-server-"))
        home, work, tmp = (self._root / part for part in ("home", "work", "tmp"))
        for folder in (home, work, tmp):
            folder.mkdir(mode=0o700)
        if self.cache_dir is not None:
            Path(self.cache_dir).mkdir(parents=True, exist_ok=True)
        argv = [self.command, *self.args]
        env = self.environment(home, tmp)
        if self.limits.bwrap or self.limits.no_network:
            # bwrap and unshare run on the host, before any namespace exists: a loader variable from
            # the config or registry data (LD_PRELOAD of a library planted in the package cache)
            # would run code there. They reach only the server, set inside the sandbox.
            loader = {name: env.pop(name) for name in list(env) if loader_variable(name)}
        if self.limits.bwrap:
            from .contain import bwrap_prefix

            # The cache stays writable: npx and uv take locks and write metadata in it even offline
            # (read-only, both fail at start), and bubblewrap 0.8 has no overlay to absorb that.
            writable = [self._root] + ([Path(self.cache_dir).resolve()] if self.cache_dir is not None else [])
            prefix = bwrap_prefix(writable)
            for name, value in loader.items():
                prefix[-1:-1] = ["--setenv", name, value]
            argv = [*prefix, *argv]
        elif self.limits.no_network:
            setting = ["env", *(f"{name}={value}" for name, value in loader.items())] if loader else []
            argv = [*network_isolation_prefix(), *setting, *argv]
        self.process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            cwd=work, env=env,
            start_new_session=True,  # its own session and group: one signal reaches all of it
            preexec_fn=functools.partial(_apply_limits, self.limits),
            limit=1 << 16,
        )
        self._stderr_task = asyncio.ensure_future(self._drain_stderr())
        return self.process

    async def _drain_stderr(self):
        # Always read stderr: a server blocked on a full pipe would look hung.
        try:
            while chunk := await self.process.stderr.read(1 << 16):
                if not self.count_output(len(chunk)):
                    return
                self._stderr.extend(chunk)
        except (OSError, ValueError):
            pass

    def count_output(self, size):
        """Count bytes read from the server; past the budget it is stopped. False when over."""
        self.output_bytes += size
        if self.output_bytes > self.limits.max_output_bytes:
            self.fail(f"sent more than {self.limits.max_output_bytes:,} bytes; stopped")
            return False
        return True

    def fail(self, reason):
        """Stop the server now for `reason` (the first reason given is kept)."""
        if self.failure is None:
            self.failure = reason
        self._signal_group(signal.SIGKILL)

    @property
    def stderr_tail(self):
        return bytes(self._stderr).decode("utf-8", "replace")

    @property
    def pid(self):
        return None if self.process is None else self.process.pid

    # -- stopping --------------------------------------------------------------------------
    async def stop(self):
        """Kill the server and everything it started, reap it, remove its temporary folders."""
        try:
            if self.process is not None:
                await self._stop_process()
        finally:
            if self._root is not None:
                _remove_tree(self._root)
                self._root = None

    async def _stop_process(self):
        process = self.process
        if process.stdin is not None and not process.stdin.is_closing():
            process.stdin.close()
        self._signal_group(signal.SIGTERM)
        deadline = time.monotonic() + _GRACE_S
        while process.returncode is None and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        for attempt in range(20):
            alive = [pid for pid, state in self.members().items() if state != "Z"]
            if not alive:
                break
            for pid in alive:
                _kill(pid)
            await asyncio.sleep(0.005 * (attempt + 1))
        try:
            await asyncio.wait_for(process.wait(), 2)
        except asyncio.TimeoutError:
            pass
        if self._stderr_task is not None:
            self._stderr_task.cancel()
        # A survivor holding our pipes would keep the transport open: close it regardless.
        transport = getattr(process, "_transport", None)
        if transport is not None:
            transport.close()

    def _signal_group(self, signum):
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signum)
        except (ProcessLookupError, PermissionError):
            pass

    def members(self):
        """{pid: state} of every live process that belongs to this server (Linux: from /proc)."""
        if self.process is None:
            return {}
        return processes_of(self.process.pid, f"{MARKER}={self._marker}".encode())


def _kill(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _stat(pid):
    """(state, ppid, process group, session) of a process, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    fields = data[data.rindex(b")") + 2:].split()
    return fields[0].decode(), int(fields[1]), int(fields[2]), int(fields[3])


def processes_of(root, marker):
    """Processes in `root`'s group or session, its descendants, and those whose environment holds
    `marker`. Without /proc, only the group leader itself is known."""
    own = os.getpid()
    if not os.path.isdir("/proc/self"):
        try:
            os.kill(root, 0)
            return {root: "?"}
        except OSError:
            return {}
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _stat(int(entry))
            if stat is not None:
                table[int(entry)] = stat
    found = {pid for pid, (_, _, group, session) in table.items() if root in (group, session)}
    children = {}
    for pid, (_, parent, _, _) in table.items():
        children.setdefault(parent, []).append(pid)
    stack = [root, *found]
    while stack:
        for child in children.get(stack.pop(), ()):
            if child not in found:
                found.add(child)
                stack.append(child)
    for pid in table.keys() - found:
        try:
            with open(f"/proc/{pid}/environ", "rb") as handle:
                if marker in handle.read():
                    found.add(pid)
        except OSError:
            continue
    found.discard(own)
    found.discard(1)
    return {pid: table[pid][0] for pid in found if pid in table}


def _remove_tree(path):
    def retry(function, name, _):
        # A server may leave folders without write permission: give it back and try once more.
        try:
            os.chmod(os.path.dirname(name), 0o700)
            if os.path.isdir(name):
                os.chmod(name, 0o700)
            function(name)
        except OSError:
            pass

    shutil.rmtree(path, onerror=retry)
