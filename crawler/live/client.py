"""Talk MCP to one server with the official `mcp` SDK and list all its tools.

stdio servers run in a `ServerProcess` sandbox and speak through a small transport of ours (the SDK's
own stdio client starts processes its way: no limits, no byte cap). Remote servers: Streamable HTTP,
then legacy SSE when no transport is given. The SDK negotiates the protocol: `server/discover` for the
stateless 2026-07-28 revision, the `initialize` handshake (2024-11-05 to 2025-11-25) otherwise.
`tools/list` is followed through every `nextCursor`, bounded in pages and tools.

The SDK is imported on first use, not with this module: it costs most of a second, which a scan spends
while its servers are starting (see `load_sdk`).
"""

import json
import re
import time
from contextlib import asynccontextmanager

import anyio

from ..manifest import ManifestError, normalize_tool
from .result import ProbeResult
from .sandbox import ServerProcess


class ProbeFailure(Exception):
    """A server misbehaved in a way we name ourselves (a cursor loop, too many tools)."""


def load_sdk():
    """Import the parts of the `mcp` SDK a probe uses (slow: call it while servers start)."""
    import mcp.client  # noqa: F401
    import mcp.client.sse  # noqa: F401
    import mcp.client.streamable_http  # noqa: F401


def _client_info():
    from importlib.metadata import PackageNotFoundError, version  # 20 ms: not before the servers start

    from mcp_types import Implementation

    try:
        ours = version("mcp-risk")
    except PackageNotFoundError:
        ours = "0"
    return Implementation(name="mcp-risk", version=ours)


async def probe(spec, limits, *, cache_dir=None, sdk_ready=None, on_start=None):
    """Probe one server: a ProbeResult with its tools, or with an error. Never raises for the server's
    faults; cancellation (Ctrl-C) still propagates, after the server is stopped. `on_start()` is
    called once a stdio server's process is started (for a remote server, at once)."""
    result = ProbeResult(spec=spec)
    if spec.problem:
        result.error = spec.problem
        return result
    started = time.perf_counter()
    stage = _Stage()
    server = None
    try:
        with anyio.fail_after(limits.timeout):
            if spec.remote:
                if on_start is not None:
                    on_start()  # nothing to start: the SDK need not wait for it
                await _wait(sdk_ready)
                await _probe_remote(spec, limits, result, stage)
            else:
                server = ServerProcess(spec.command, spec.args, spec.env, limits, cache_dir=cache_dir)
                stage.now = "starting"
                await server.start()
                if on_start is not None:
                    on_start()
                await _wait(sdk_ready)
                async with _process_transport(server, result, stage) as streams:
                    await _session(streams, "stdio", limits, result, stage)
        result.seconds = time.perf_counter() - started
    except Exception as error:  # one bad server becomes one error, whatever it did
        timed_out = isinstance(error, TimeoutError) or isinstance(_leaf(error), TimeoutError)
        if server is not None and server.process is not None and not timed_out and not server.failure:
            with anyio.move_on_after(0.5):  # its exit status explains more than a closed pipe
                while server.process.returncode is None:
                    await anyio.sleep(0.02)
        result.error = _explain(error, spec, limits, stage, server)
        result.tools = None
    finally:
        if server is not None:
            with anyio.CancelScope(shield=True):
                await server.stop()
    return result


async def _wait(event):
    if event is not None:
        await event.wait()


class _Stage:
    """Where a probe is, for error messages: starting, handshake, tools/list page N; the last lines a
    server printed on stdout that were not JSON-RPC, and a remote's WWW-Authenticate challenge (both
    tell a server that waits for a login)."""

    def __init__(self):
        self.now = "connecting"
        self.noise = []
        self.challenge = None


# -- stdio ------------------------------------------------------------------------------------

@asynccontextmanager
async def _process_transport(server, result, stage=None):
    """The SDK's (read, write) streams over a sandboxed process's pipes, newline-delimited JSON-RPC.

    Lines that are not JSON-RPC (banners, logs printed to stdout) are skipped and counted; every byte
    counts against the server's budget, and a line can never outgrow it.
    """
    from mcp.shared.message import SessionMessage
    from mcp_types import jsonrpc_message_adapter

    process = server.process
    noise_tail = stage.noise if stage is not None else []
    read_in, read_out = anyio.create_memory_object_stream(0)
    write_in, write_out = anyio.create_memory_object_stream(0)
    noise = 0

    async def reader():
        nonlocal noise
        buffer, scanned = bytearray(), 0
        async with read_in:
            while chunk := await process.stdout.read(1 << 16):
                if not server.count_output(len(chunk)):
                    return
                buffer += chunk
                while (end := buffer.find(b"\n", scanned)) >= 0:
                    line = bytes(buffer[:end]).strip()
                    del buffer[: end + 1]
                    scanned = 0
                    if not line:
                        continue
                    try:
                        # json.loads then validate: a fifth of the memory of validate_json on a page
                        # of millions of tiny items (124 MB against 700 MB for 8 MB of `{}`).
                        data = json.loads(line)
                        if _too_many_tools(data, server.limits.max_tools):
                            server.fail(f"listed more than {server.limits.max_tools:,} tools; stopped")
                            return
                        message = jsonrpc_message_adapter.validate_python(data, by_name=False)
                    except (ValueError, RecursionError):  # RecursionError: JSON nested past Python's stack
                        noise += 1
                        noise_tail.append(line[:500].decode("utf-8", "replace"))
                        del noise_tail[:-_NOISE_KEPT]
                        continue
                    await read_in.send(SessionMessage(message))
                scanned = len(buffer)

    async def writer():
        async with write_out:
            async for message in write_out:
                data = message.message.model_dump_json(by_alias=True, exclude_unset=True).encode() + b"\n"
                try:
                    process.stdin.write(data)
                    await process.stdin.drain()
                except (OSError, RuntimeError):
                    return  # the server is gone; the reader sees its stdout end

    async def watch_exit():
        # A server that exits while a child of it holds its stdout open would never show EOF.
        while process.returncode is None:
            await anyio.sleep(0.05)
        await anyio.sleep(0.3)  # what it wrote before exiting still arrives
        await read_in.aclose()

    try:
        async with anyio.create_task_group() as group:
            group.start_soon(reader)
            group.start_soon(writer)
            group.start_soon(watch_exit)
            try:
                yield read_out, write_in
            finally:
                group.cancel_scope.cancel()
    finally:
        if noise:
            result.warn(f"skipped {noise} line(s) on stdout that were not JSON-RPC")


_NOISE_KEPT = 8


def _too_many_tools(data, max_tools):
    """Whether a message is a response listing more tools than a server may have. Checked before the
    SDK sees it: it would validate every one first (over a gigabyte of errors for two million `{}`)."""
    result = data.get("result") if isinstance(data, dict) else None
    return isinstance(result, dict) and isinstance(result.get("tools"), list) and len(result["tools"]) > max_tools


# -- remote -----------------------------------------------------------------------------------

async def _probe_remote(spec, limits, result, stage):
    from mcp.client.sse import sse_client
    from mcp.client.streamable_http import streamable_http_client

    budget = _ByteBudget(limits.max_output_bytes)
    kinds = [spec.transport] if spec.transport else ["http", "sse"]
    failures = []
    for kind in kinds:
        try:
            if kind == "http":
                async with _http_client(spec.headers, limits, budget, stage) as http:
                    async with streamable_http_client(spec.url, http_client=http) as streams:
                        await _session(streams, "streamable-http", limits, result, stage)
            else:
                def factory(headers=None, timeout=None, auth=None):
                    return _new_http_client(headers, timeout, auth, budget, stage=stage)

                async with sse_client(spec.url, headers=spec.headers or None, timeout=limits.timeout,
                                      sse_read_timeout=limits.timeout, httpx_client_factory=factory) as streams:
                    await _session(streams, "sse", limits, result, stage)
            return
        except Exception as error:
            if stage.challenge is not None:
                raise ProbeFailure(_challenge_message(stage.challenge)) from None
            if budget.failure or stage.now.startswith("tools/list") or len(kinds) == 1:
                raise _with_budget(error, budget)
            failures.append(f"{'Streamable HTTP' if kind == 'http' else 'SSE'}: {_leaf_message(error)}")
            stage.now = "connecting"
    raise ProbeFailure("; ".join(failures))


class _ByteBudget:
    def __init__(self, cap):
        self.cap, self.used, self.failure = cap, 0, None

    def take(self, size):
        self.used += size
        if self.used > self.cap and self.failure is None:
            self.failure = f"sent more than {self.cap:,} bytes; stopped"
        return self.failure is None


def _challenge_message(challenge):
    """A remote that answered 401 with a WWW-Authenticate challenge: a login the crawl cannot give.
    Bearer (the MCP authorization spec's OAuth, often with resource_metadata) is an interactive one."""
    scheme = challenge.split(None, 1)[0].rstrip(",").lower() if challenge else ""
    if scheme == "bearer" or "resource_metadata" in challenge.lower():
        return f"needs an interactive login (OAuth; the server answered HTTP 401, WWW-Authenticate: {challenge})"
    return f"needs credentials (the server answered HTTP 401, WWW-Authenticate: {challenge})"


def _with_budget(error, budget):
    return ProbeFailure(budget.failure) if budget.failure else error


@asynccontextmanager
async def _http_client(headers, limits, budget, stage=None):
    client = _new_http_client(headers, None, None, budget, limits.timeout, stage)
    async with client:
        yield client


def _new_http_client(headers, timeout, auth, budget, seconds=30.0, stage=None):
    import httpx2

    class CappedStream(httpx2.AsyncByteStream):
        def __init__(self, inner):
            self.inner = inner

        async def __aiter__(self):
            async for chunk in self.inner:
                if not budget.take(len(chunk)):
                    raise httpx2.ReadError(budget.failure)
                yield chunk

        async def aclose(self):
            await self.inner.aclose()

    class CappedTransport(httpx2.AsyncBaseTransport):
        def __init__(self):
            self.inner = httpx2.AsyncHTTPTransport()

        async def handle_async_request(self, request):
            response = await self.inner.handle_async_request(request)
            challenge = response.headers.get("www-authenticate")
            if response.status_code == 401 and challenge and stage is not None and stage.challenge is None:
                stage.challenge = " ".join(challenge.split())[:300]
            response.stream = CappedStream(response.stream)
            return response

        async def aclose(self):
            await self.inner.aclose()

    return httpx2.AsyncClient(headers=headers, timeout=timeout or httpx2.Timeout(seconds), auth=auth,
                              transport=CappedTransport())


# -- the session --------------------------------------------------------------------------------

async def _session(streams, transport, limits, result, stage):
    """Negotiate, record who the server is, list every page of tools."""
    from mcp.client import Client

    stage.now = "handshake"
    async with Client(_Ready(streams), cache=None, client_info=_client_info()) as client:
        result.transport = transport
        result.protocol_version = client.protocol_version
        info = client.server_info
        if info is not None:
            result.server_info = {k: v for k, v in {"name": info.name, "version": info.version,
                                                    "title": getattr(info, "title", None)}.items() if v}
        result.instructions = client.instructions
        tools, cursor, seen, listed_so_far = [], None, set(), 0
        for page in range(1, limits.max_pages + 1):
            stage.now = f"tools/list page {page}"
            listed, cursor, count = await _tools_page(client, cursor, listed_so_far, result, limits.max_tools)
            listed_so_far += count
            tools.extend(listed)
            if listed_so_far > limits.max_tools:  # listed, not kept: dropped tools count too
                raise ProbeFailure(f"listed more than {limits.max_tools:,} tools; stopped")
            if not cursor:
                break
            if cursor in seen:
                raise ProbeFailure(f"tools/list page {page} repeats an earlier cursor: the listing never ends")
            seen.add(cursor)
        else:
            raise ProbeFailure(f"tools/list still had more after {limits.max_pages:,} pages; stopped")
    result.tools = _normalized(tools, result)


async def _tools_page(client, cursor, offset, result, max_tools):
    """One page of tools/list: (tools as MCP JSON dicts, next cursor, how many the page listed).

    The SDK validates a page as a whole, so one tool it rejects (no inputSchema, a name that is not a
    string) would lose every other tool of the server. Then the same page is asked for again as raw
    JSON-RPC and each tool is validated on its own: the rejected ones are named in the result's
    warnings (and so in the crawl's errors), their siblings are kept."""
    from pydantic import ValidationError

    try:
        listed = await client.list_tools(cursor=cursor)
    except ValidationError:
        pass
    else:
        return [tool.model_dump(mode="json", by_alias=True, exclude_none=True) for tool in listed.tools], \
            listed.next_cursor, len(listed.tools)
    from mcp_types import Tool

    raw = await _raw_request(client.session, "tools/list", {"cursor": cursor} if cursor else None)
    if not isinstance(raw, dict) or not isinstance(raw.get("tools"), list):
        raise ProbeFailure(f"tools/list answered without a list of tools (got {type(raw.get('tools') if isinstance(raw, dict) else raw).__name__})")
    if offset + len(raw["tools"]) > max_tools:  # before validating millions of them one by one
        raise ProbeFailure(f"listed more than {max_tools:,} tools; stopped")
    following = raw.get("nextCursor")
    if following is not None and not isinstance(following, str):
        raise ProbeFailure(f"tools/list gave a nextCursor that is not a string ({type(following).__name__})")
    kept = []
    for index, item in enumerate(raw["tools"], offset):
        if index % 1000 == 999:
            await anyio.sleep(0)  # a page of thousands of broken tools must not outlast the timeout
        try:
            tool = Tool.model_validate(item, by_name=False)
        except ValidationError as error:
            name = item.get("name") if isinstance(item, dict) else None
            label = f"{name[:80]!r}" if isinstance(name, str) else "(no name)"
            first = error.errors()[0]
            where = ".".join(str(part) for part in first.get("loc", ())) or "tool"
            result.warn(f"dropped a tool: tools[{index}] {label} fails MCP's Tool schema "
                                   f"({where}: {first.get('msg', 'invalid')})")
            continue
        kept.append(tool.model_dump(mode="json", by_alias=True, exclude_none=True))
    return kept, following or None, len(raw["tools"])


async def _raw_request(session, method, params):
    """A request answered with its raw JSON result, unvalidated. The SDK has no public call for it:
    this is `ClientSession.send_request` (mcp 2.3.0) without its result validation, stamped and
    timed the same way, so HTTP transports send the same headers."""
    if not (hasattr(session, "_stamp") and hasattr(getattr(session, "_dispatcher", None), "send_raw_request")):
        # Another mcp version than the one pinned: say what happened rather than an AttributeError.
        raise ManifestError("the MCP SDK rejected a tool, and this mcp version cannot re-read the page raw "
                            "to keep the others (mcp-risk pins mcp 2.3.0)")
    data = {"method": method, **({"params": params} if params else {})}
    opts = {}
    session._stamp(data, opts)
    timeout = getattr(session, "_session_read_timeout_seconds", None)
    if timeout is not None:
        opts["timeout"] = timeout
    return await session._dispatcher.send_raw_request(method, data.get("params"), opts)


def _normalized(tools, result):
    out, names = [], set()
    for index, data in enumerate(tools):
        try:
            normalized = normalize_tool(data, f"tools[{index}]")
        except ManifestError as error:
            result.warn(f"dropped a tool: {error}")
            continue
        if normalized["name"] in names:
            result.warn(f"tool {normalized['name']!r} listed twice; the first kept")
            continue
        names.add(normalized["name"])
        out.append(normalized)
    return out


class _Ready:
    """Streams that already exist, in the shape of an SDK Transport (an async context manager)."""

    def __init__(self, streams):
        self.streams = streams

    async def __aenter__(self):
        return self.streams

    async def __aexit__(self, *exc):
        return False


# -- errors -------------------------------------------------------------------------------------

def _explain(error, spec, limits, stage, server):
    """One line that says what went wrong with this server, in words a user can act on."""
    leaf = _leaf(error)
    if server is not None and server.failure:
        return server.failure
    login = _login_prompt(server, stage)
    if login:
        return f"needs an interactive login (not probed unattended; it printed: {login})"
    if isinstance(leaf, TimeoutError) or isinstance(error, TimeoutError):
        waiting = {"starting": "to start", "handshake": "to answer the handshake"}.get(stage.now, f"during {stage.now}")
        return f"no answer within {limits.timeout:g} s (waited {waiting})" + _stderr_hint(server)
    if isinstance(leaf, FileNotFoundError) and stage.now == "starting":
        return f"cannot start: command not found: {spec.command}"
    if isinstance(leaf, PermissionError) and stage.now == "starting":
        return f"cannot start {spec.command}: permission denied"
    if isinstance(leaf, ManifestError):
        return str(leaf)
    process = server.process if server is not None else None
    if process is not None and process.returncode is not None:
        status = process.returncode
        how = f"exited with status {status}" if status >= 0 else f"was killed by {_signal_name(-status)}"
        return f"server {how} during {stage.now}" + _stderr_hint(server)
    message = _leaf_message(error)
    if process is not None and "connection closed" in message.lower():
        return f"server closed its output during {stage.now}" + _stderr_hint(server)
    if isinstance(leaf, ProbeFailure):
        return message
    return f"{stage.now}: {message}"


# What a server prints when it waits for a person: an OAuth or device-code URL to open, a browser.
_LOGIN_WORDS = re.compile(r"log ?in|sign ?in|authori[sz]|authenticat|oauth|device ?code|verification code|"
                          r"enter (the|this) code|consent", re.IGNORECASE)
_URL = re.compile(r"https?://\S+", re.IGNORECASE)
_BROWSER = re.compile(r"(open|opening|launch|launching|use) (a |the |your )?(web )?browser|in (a|the|your) (web )?browser",
                      re.IGNORECASE)


def _login_prompt(server, stage):
    """The line (cut short) of a stdio server's stderr or stray stdout that asks for an interactive
    login (a login/OAuth word with a URL, or a browser to open); None when there is none."""
    lines = list(stage.noise) if stage is not None else []
    if server is not None:
        lines += server.stderr_tail.splitlines()[-40:]
    for line in reversed(lines):
        text = " ".join(line.split())
        if (_LOGIN_WORDS.search(text) and _URL.search(text)) or _BROWSER.search(text):
            return _printable(text)[:200]
    return None


def _printable(text):
    return "".join(ch if ch.isprintable() else " " for ch in text)


def _signal_name(number):
    import signal

    try:
        name = signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
    return {"SIGXCPU": "SIGXCPU (its CPU-time limit)", "SIGXFSZ": "SIGXFSZ (its file-size limit)"}.get(name, name)


def _leaf(error):
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    return error


def _leaf_message(error):
    leaf = _leaf(error)
    code = getattr(getattr(leaf, "error", None), "code", None)
    text = str(leaf) or type(leaf).__name__
    prefix = f"MCP error {code}: " if code is not None else ("" if isinstance(leaf, ProbeFailure) else f"{type(leaf).__name__}: ")
    return prefix + _clip(" ".join(text.split()), 300)


def _stderr_hint(server):
    if server is None:
        return ""
    lines = [line.strip() for line in server.stderr_tail.splitlines() if line.strip()]
    # Node ends a crash with its stack and "Node.js v20.x": the line that names the error says more.
    told = [line for line in lines if not _NODE_TRAILER.match(line)] or lines
    named = [line for line in told if _ERROR_LINE.search(line)]
    return f" (stderr: {_clip(_printable((named or told)[-1]), 200)})" if lines else ""


def _clip(text, width):
    """At most `width` characters, cut at a space when one is near the end, with `…` for the rest."""
    if len(text) <= width:
        return text
    cut = text[:width - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > width * 2 // 3 else cut) + "…"


_NODE_TRAILER = re.compile(r"Node\.js v\d|at \S|\^+$")
_ERROR_LINE = re.compile(r"^[\w.]*(Error|Exception)\b|^error\b", re.IGNORECASE)
