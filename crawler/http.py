"""One polite async HTTP client for every source.

Per host: bounded concurrency and a rate limit (leaky bucket). Every request: an identifying
User-Agent, a deadline, a size limit, retries with exponential backoff and jitter on timeouts,
transport errors, 429 and 5xx (honouring `Retry-After`), and a conditional request through an
HTTP cache stored on disk (an unchanged page costs a 304).
"""

import asyncio
import email.utils
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata

import httpx
from aiolimiter import AsyncLimiter

from .manifest import ManifestError


def _import_stamina():
    """stamina, whose tenacity imports tornado whenever it is installed (the `cluster` extra brings
    it) to retry tornado coroutines, which we never have: a tenth of a crawl's start-up. Blocked
    just for this import, unless something has imported tornado already."""
    import sys

    blocked = "tornado" not in sys.modules
    if blocked:
        sys.modules["tornado"] = None  # `import tornado` raises ImportError, which tenacity expects
    try:
        import stamina
        import stamina.instrumentation  # noqa: F401
    finally:
        if blocked:
            del sys.modules["tornado"]
    return stamina


stamina = _import_stamina()

# The official registry allows 180 requests/min per IP: stay well under it by default.
DEFAULT_RATE_PER_MINUTE = 150
PROJECT_URL = "https://pypi.org/project/mcp-risk/"


def user_agent():
    try:
        version = metadata.version("mcp-risk")
    except metadata.PackageNotFoundError:
        version = "0"
    return f"mcp-risk/{version} (+{PROJECT_URL})"


class FetchError(ManifestError):
    """A request that failed for good (after retries, or on an error not worth retrying)."""


class PageError(ManifestError):
    """A response that arrived but is not a usable page (malformed JSON, wrong shape)."""


class _Retryable(Exception):
    """A response worth another try: 429 or 5xx, with the server's Retry-After if it sent one."""

    def __init__(self, status, reason, retry_after):
        super().__init__(f"HTTP {status} {reason}".strip())
        self.status = status
        self.retry_after = retry_after


@dataclass
class HttpOptions:
    user_agent: str = field(default_factory=user_agent)
    rate_per_minute: float | None = DEFAULT_RATE_PER_MINUTE  # per host; None: no limit
    concurrency_per_host: int = 4
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    request_deadline: float = 120.0  # a whole attempt, however slowly the bytes drip in
    attempts: int = 5
    retry_budget: float = 600.0  # seconds of retrying per request, waits included
    wait_initial: float = 0.5
    wait_max: float = 30.0
    max_retry_after: float = 300.0  # a longer Retry-After fails the request rather than stall the crawl
    max_bytes: int = 64 * 1024 * 1024
    cache_path: str | None = None  # None: no HTTP cache


@dataclass
class Fetched:
    url: str
    status: int
    content: bytes
    headers: httpx.Headers
    from_cache: bool = False
    not_modified: bool = False  # revalidated: the server answered 304

    def text(self):
        return self.content.decode(self.headers_charset(), errors="replace")

    def headers_charset(self):
        content_type = self.headers.get("content-type", "")
        for part in content_type.split(";")[1:]:
            key, _, value = part.strip().partition("=")
            if key.lower() == "charset" and value:
                return value.strip('"') if _known_codec(value.strip('"')) else "utf-8"
        return "utf-8"

    def json(self):
        try:
            return json.loads(self.content)
        except ValueError as error:  # bad JSON, bad UTF-8, a number too long to convert
            detail = f"{error.msg} at line {error.lineno} column {error.colno}" if isinstance(
                error, json.JSONDecodeError) else str(error)[:200]
            raise PageError(f"{self.url}: not valid JSON ({detail})") from None
        except RecursionError:
            raise PageError(f"{self.url}: JSON nested too deeply") from None

    def server_date(self):
        """The server's clock (Date header) when this came over the network, else None."""
        if self.from_cache and not self.not_modified:
            return None
        value = self.headers.get("date")
        try:
            parsed = email.utils.parsedate_to_datetime(value) if value else None
        except (TypeError, ValueError):
            return None
        if parsed is None or parsed.tzinfo is None:
            return None
        return parsed.astimezone(timezone.utc)


def _known_codec(name):
    import codecs

    try:
        codecs.lookup(name)
        return True
    except LookupError:
        return False


@dataclass
class HttpStats:
    requests: int = 0
    not_modified: int = 0
    retries: int = 0
    bytes: int = 0


class _LocalCacheControl(httpx.AsyncBaseTransport):
    """Drops the `Cache-Control: no-cache` we add for the cache below us before it goes out.

    The header makes hishel revalidate every stored response (so a change is never missed),
    but sent upstream it would make CDNs bypass their own caches, which is not polite.
    """

    def __init__(self, inner):
        self.inner = inner

    async def handle_async_request(self, request):
        if request.headers.get("cache-control") == "no-cache":
            del request.headers["cache-control"]
        return await self.inner.handle_async_request(request)

    async def aclose(self):
        await self.inner.aclose()


class _ByScheme(httpx.AsyncBaseTransport):
    """Plain HTTP through a transport that never loads certificates; HTTPS through one made on
    the first https request. Loading the system's certificates takes tens of milliseconds, paid
    only by a crawl that goes out over TLS (a loopback or LAN registry never does)."""

    def __init__(self, limits):
        self.limits = limits
        self.plain = None
        self.tls = None

    async def handle_async_request(self, request):
        if request.url.scheme == "https":
            if self.tls is None:
                self.tls = httpx.AsyncHTTPTransport(limits=self.limits, retries=0)
            return await self.tls.handle_async_request(request)
        if self.plain is None:
            self.plain = httpx.AsyncHTTPTransport(limits=self.limits, retries=0, verify=False)  # (no TLS on it)
        return await self.plain.handle_async_request(request)

    async def aclose(self):
        for transport in (self.plain, self.tls):
            if transport is not None:
                await transport.aclose()


class Fetcher:
    """The crawler's HTTP client. Use as `async with Fetcher(options) as http: await http.get(url)`."""

    def __init__(self, options=None):
        self.options = options or HttpOptions()
        self.stats = HttpStats()
        self._slots = {}
        self._limiters = {}
        self._client = None

    async def __aenter__(self):
        options = self.options
        # stamina logs every retry through `logging` by default; we count them instead.
        stamina.instrumentation.set_on_retry_hooks([])
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=16)
        transport = _ByScheme(limits)
        if options.cache_path:
            import hishel
            from hishel.httpx import AsyncCacheTransport

            import anysqlite

            # Our own connection to the cache: write-ahead log and no fsync per commit (a lost
            # cache entry costs one refetch), so storing a page is not on every request's path.
            connection = await anysqlite.connect(str(options.cache_path), isolation_level=None)
            await connection.execute("PRAGMA journal_mode = WAL")
            await connection.execute("PRAGMA synchronous = NORMAL")
            storage = hishel.AsyncSqliteStorage(
                connection=connection, default_ttl=30 * 24 * 3600, max_stream_size=options.max_bytes)
            transport = AsyncCacheTransport(
                next_transport=_LocalCacheControl(transport), storage=storage,
                rfc=hishel.CacheOptions(shared=False))
        timeout = httpx.Timeout(options.read_timeout, connect=options.connect_timeout)
        self._client = httpx.AsyncClient(
            transport=transport, timeout=timeout, follow_redirects=True, max_redirects=5,
            headers={"User-Agent": options.user_agent, "Accept": "application/json, text/markdown;q=0.9, */*;q=0.8"},
        )
        return self

    async def __aexit__(self, *exc):
        await self._client.aclose()

    def _slot(self, host):
        if host not in self._slots:
            self._slots[host] = asyncio.Semaphore(max(1, self.options.concurrency_per_host))
            rate = self.options.rate_per_minute
            # A small bucket (2 s worth, at least one request) so no burst beats the per-minute rate.
            bucket = max(1.0, rate / 30) if rate else None
            self._limiters[host] = AsyncLimiter(bucket, bucket * 60 / rate) if rate else None
        return self._slots[host], self._limiters[host]

    async def get(self, url, *, params=None, headers=None, sent=None):
        """GET `url`: a `Fetched` (2xx, or a cached body the server confirmed with a 304).

        `sent`, an asyncio.Event, is set once the request is on the wire (or has failed): a source
        can then hand over its current page while the server works on the next one.
        Raises FetchError when the request fails for good.
        """
        try:
            return await self._get(url, params, headers, sent)
        finally:
            if sent is not None:
                sent.set()

    async def _get(self, url, params, headers, sent):
        try:
            request_url = httpx.URL(url, params=params)
        except (httpx.InvalidURL, TypeError, ValueError) as error:
            raise FetchError(f"{url}: not a usable URL ({error})") from None
        if request_url.scheme not in ("http", "https"):
            raise FetchError(f"{url}: only http and https URLs can be crawled")
        host = f"{request_url.host}:{request_url.port or ''}"
        options = self.options
        try:
            async for attempt in stamina.retry_context(
                on=self._should_retry, attempts=options.attempts, timeout=options.retry_budget,
                wait_initial=options.wait_initial, wait_max=options.wait_max, wait_jitter=options.wait_initial,
            ):
                if attempt.num > 1:  # counted here, not in _should_retry: stamina asks it after the last try too
                    self.stats.retries += 1
                with attempt:
                    return await self._once(request_url, host, headers, sent)
        except _Retryable as error:
            if error.retry_after is not None and error.retry_after > options.max_retry_after:
                raise FetchError(f"GET {request_url}: {error}, Retry-After {error.retry_after:.0f} s is longer than "
                                 f"the {options.max_retry_after:.0f} s a crawl waits") from None
            raise FetchError(f"GET {request_url}: {error} ({_tries(options.attempts)})") from None
        except (httpx.TimeoutException, TimeoutError):
            raise FetchError(f"GET {request_url}: timed out ({_tries(options.attempts)})") from None
        except httpx.TransportError as error:
            raise FetchError(f"GET {request_url}: {type(error).__name__}: {error or 'connection failed'}") from None
        except httpx.HTTPError as error:  # too many redirects, bad headers, ...
            raise FetchError(f"GET {request_url}: {type(error).__name__}: {error}") from None

    def _should_retry(self, error):
        """stamina's hook: True to retry with backoff, a number of seconds to wait that long, False to stop."""
        if isinstance(error, _Retryable):
            if error.retry_after is not None:
                if error.retry_after > self.options.max_retry_after:
                    return False
                return max(0.0, error.retry_after)
            return True
        if isinstance(error, (httpx.TimeoutException, TimeoutError, httpx.NetworkError, httpx.RemoteProtocolError)):
            return True
        return False

    async def _once(self, url, host, headers, sent):
        semaphore, limiter = self._slot(host)
        async with semaphore:
            if limiter is not None:
                await limiter.acquire()
            self.stats.requests += 1
            request_headers = {"Cache-Control": "no-cache", **(headers or {})}
            extensions = {}
            if sent is not None:
                async def trace(event, info):  # httpcore's progress events
                    if event.endswith(("send_request_body.complete", "receive_response_headers.started")):
                        sent.set()

                extensions["trace"] = trace
            async with asyncio.timeout(self.options.request_deadline):
                async with self._client.stream("GET", url, headers=request_headers, extensions=extensions) as response:
                    return await self._read(url, response)

    async def _read(self, url, response):
        status = response.status_code
        if status == 429 or status >= 500:
            raise _Retryable(status, response.reason_phrase, _retry_after(response.headers.get("retry-after")))
        if status >= 400 or status < 200 or status == 304:
            raise FetchError(f"GET {url}: HTTP {status} {response.reason_phrase}".rstrip())
        limit = self.options.max_bytes
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise FetchError(f"GET {url}: response of {int(declared):,} bytes is over the {limit:,}-byte limit")
        chunks, size = [], 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                raise FetchError(f"GET {url}: response is over the {limit:,}-byte limit")
            chunks.append(chunk)
        caching = response.extensions.get("caching") or {}  # hishel's CacheStatus (a TypedDict)
        from_cache = bool(caching.get("from_cache"))
        not_modified = from_cache and bool(caching.get("revalidated"))
        if not_modified:
            self.stats.not_modified += 1
        self.stats.bytes += size
        return Fetched(str(response.url), status, b"".join(chunks), response.headers, from_cache, not_modified)


def _retry_after(value):
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def _tries(attempts):
    """How a failed request ended: "tried once, no retries" rather than "gave up after 1 attempts"."""
    return "tried once, no retries" if attempts == 1 else f"gave up after {attempts} attempts"
