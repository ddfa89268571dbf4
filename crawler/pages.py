"""What a crawling source yields, and how its pages reach whoever stores them.

A source is an object with `name`, `kind`, `location` and `async def pages(http, state)`, an
async generator of `Page`s. `state` is what the source last checkpointed (a dict, {} at first);
each page carries the state to checkpoint once that page is stored. Storing a page and its
checkpoint together is the consumer's job: then a crawl killed at any point resumes where it
stopped and loses nothing it already stored.

`crawl_pages` runs a source on an event loop in the caller's thread and hands its pages over one
by one. Sources with cursors send the next request before they yield a page, so fetching the next
page overlaps with storing this one (and no second thread contends for the GIL).
"""

import asyncio
import time
from dataclasses import dataclass, field

from .http import Fetcher, HttpOptions, HttpStats, PageError
from .manifest import ManifestError


class Skip(Exception):
    """Raised by a source's `check()` when it cannot run here (say, no API key): skipped, not failed."""


@dataclass
class Page:
    manifests: list
    state: dict  # the source's checkpoint once this page is stored
    url: str | None = None
    errors: list = field(default_factory=list)  # entries skipped, each a one-line message
    not_modified: bool = False
    done: bool = False  # the last page of a complete walk
    http: HttpStats | None = None  # a copy of the client's counters when the page was made


@dataclass
class Failure:
    """The walk stopped early: a page could not be fetched or read, or a limit was reached."""

    message: str
    http: HttpStats | None = None


@dataclass
class Limits:
    max_pages: int | None = None
    max_seconds: float | None = None


async def cursor_walk(request, cursor, next_cursor, what="cursor"):
    """Walk a cursor-paged API: yield (fetched, document, next cursor or None, error or None).

    `request(cursor, sent)` fetches one page (cursor None for the first) and sets the event
    `sent` once the request is on the wire; `next_cursor(document, url)` reads the next page's
    cursor from a page as (cursor or None, error message or None). Cursors are sequential, so the
    next request goes out as soon as a page names its cursor, and the page is handed over while
    it is in flight: still one request at a time. A cursor that repeats an earlier page is a
    PageError (a listing that never ends). The registry and Glama walk with it.
    """
    seen = set()
    fetch = asyncio.ensure_future(request(cursor, None))
    try:
        while True:
            fetched = await fetch
            document = fetched.json()
            following, error = next_cursor(document, fetched.url)
            if following and (following == cursor or following in seen):
                raise PageError(f"{fetched.url}: {what} {following[:80]!r} repeats a page: stopping")
            if following:
                sent = asyncio.Event()
                fetch = asyncio.ensure_future(request(following, sent))
                await sent.wait()  # on the wire: this page is read and stored meanwhile
            seen.add(cursor)
            yield fetched, document, following, error
            if not following:
                return
            cursor = following
    finally:
        if not fetch.done():
            fetch.cancel()
            await asyncio.gather(fetch, return_exceptions=True)


def crawl_pages(source, state, options=None, limits=None):
    """Yield the source's `Page`s in order, then at most one `Failure`.

    The source runs on an event loop in the caller's thread, paused while the caller handles a
    page. Sources with cursors send the next request before they yield a page (see
    `Fetcher.get(sent=...)`), so the caller's storing overlaps the network wait without two
    threads contending for the GIL. Errors that are bugs rather than bad input propagate.
    """
    options = options or HttpOptions()
    limits = limits or Limits()
    # While the caller handles a page the loop stands still: a response arriving meanwhile waits
    # in the socket buffer. Timeouts keep counting, so a caller taking longer than the read
    # timeout on one page costs a retry (a 304 from the cache), never a lost page.
    loop = asyncio.new_event_loop()
    loop.set_exception_handler(_quiet_when_stopped)
    items = _produce(source, dict(state or {}), options, limits)
    try:
        while True:
            try:
                item = loop.run_until_complete(anext(items))
            except StopAsyncIteration:
                return
            yield item
    finally:
        _close(loop, items)


async def _produce(source, state, options, limits):
    deadline = None if limits.max_seconds is None else time.monotonic() + limits.max_seconds
    pages = 0
    async with Fetcher(options) as http:
        stats = lambda: HttpStats(**vars(http.stats))  # noqa: E731
        walk = source.pages(http, state)
        try:
            while True:
                if limits.max_pages is not None and pages >= limits.max_pages:
                    yield Failure(f"stopped after {pages} pages (the page limit); the next crawl resumes here", stats())
                    return
                try:
                    if deadline is None:
                        page = await anext(walk)
                    else:
                        page = await asyncio.wait_for(anext(walk), max(0.001, deadline - time.monotonic()))
                except StopAsyncIteration:
                    return
                except (asyncio.TimeoutError, TimeoutError):
                    yield Failure(f"stopped after {limits.max_seconds:g} s (the time limit); the next crawl "
                                  "resumes here", stats())
                    return
                except ManifestError as error:  # FetchError and PageError too
                    yield Failure(str(error), stats())
                    return
                pages += 1
                page.http = stats()
                yield page
                if page.done:
                    return
        finally:
            await walk.aclose()


def _quiet_when_stopped(loop, context):
    """A stop (Ctrl-C, SIGTERM) lands in whichever task was running; that task then dies with it
    and nobody awaits it. Asyncio would print "Task exception was never retrieved" and a traceback
    for it: the crawl already said it was interrupted, so say nothing. Anything else as usual."""
    if isinstance(context.get("exception"), (KeyboardInterrupt, asyncio.CancelledError)):
        return
    loop.default_exception_handler(context)


def _close(loop, items):
    """Stop whatever is still running (a request in flight, an interrupted step), then the loop."""
    try:
        pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        try:
            loop.run_until_complete(items.aclose())
        except RuntimeError:  # the generator was interrupted mid-step and cannot be closed cleanly
            pass
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())
    finally:
        loop.close()
