"""Smithery's registry API: `GET /servers?page=&pageSize=` to list, `GET /servers/{qualifiedName}`
for each server's tools and security scan. A Bearer API key (SMITHERY_API_KEY) on every call.

The list and paging field names are not verified against a real payload, so they are read
leniently: the servers under `servers` (or `items`, `data`), the page count under `pagination`.
A page that fails is logged and skipped: pages are numbered, so the walk goes on.

State: {"resume": {"url", "page"}} while a walk is unfinished.
"""

import asyncio
import os
from urllib.parse import quote

from ..http import FetchError, PageError
from ..pages import Page, Skip
from . import common

NAME = "smithery"
DEFAULT_URL = "https://registry.smithery.ai"
PAGE_SIZE = 100
KEY_VARIABLE = "SMITHERY_API_KEY"
MAX_BAD_PAGES = 3


class MissingKey(Skip):
    """No API key: the source is skipped, not failed."""


class SmitherySource:
    kind = NAME

    def __init__(self, url=None, *, name=None, api_key=None, query=None, page_size=PAGE_SIZE, details=True):
        self.base = (url or DEFAULT_URL).rstrip("/")
        self.location = self.base
        self.name = name or (NAME if self.base == DEFAULT_URL else f"{NAME}:{self.base}")
        self.api_key = api_key if api_key is not None else os.environ.get(KEY_VARIABLE)
        self.query = query
        self.page_size = page_size
        self.details = details

    def check(self):
        if not self.api_key:
            raise MissingKey(f"smithery: skipped: set {KEY_VARIABLE} to an API key to crawl Smithery")

    async def pages(self, http, state):
        self.check()
        headers = {"Authorization": f"Bearer {self.api_key}"}
        resume = common.obj(state.get("resume"))
        page = int(resume.get("page") or 1) if resume.get("url") == self.base else 1
        failed_in_a_row = 0
        while True:
            params = {"page": page, "pageSize": self.page_size}
            if self.query:
                params["q"] = self.query
            url = f"{self.base}/servers"
            try:
                fetched = await http.get(url, params=params, headers=headers)
                entries, more = parse_list(fetched.json(), fetched.url, page, self.page_size)
            except PageError as error:  # numbered pages: log it and go on to the next
                failed_in_a_row += 1
                if failed_in_a_row >= MAX_BAD_PAGES:
                    raise PageError(f"{error} ({MAX_BAD_PAGES} bad pages in a row: stopping)") from None
                yield Page(manifests=[], state={"resume": {"url": self.base, "page": page + 1}}, url=url,
                           errors=[str(error)])
                page += 1
                continue
            failed_in_a_row = 0
            errors = []
            manifests = [m for m in (parse_server(e, f"{fetched.url}: servers[{i}]", errors)
                                     for i, e in enumerate(entries)) if m is not None]
            if self.details and manifests:
                await asyncio.gather(*(self._detail(http, m, headers, errors) for m in manifests))
            state = {"resume": {"url": self.base, "page": page + 1}} if more else {}
            yield Page(manifests=manifests, state=state, url=fetched.url, errors=errors,
                       not_modified=fetched.not_modified, done=not more)
            if not more:
                return
            page += 1

    async def _detail(self, http, manifest, headers, errors):
        url = f"{self.base}/servers/{quote(manifest.name, safe='@/')}"
        try:
            fetched = await http.get(url, headers=headers)
            detail = fetched.json()
        except (FetchError, PageError) as error:
            errors.append(f"{manifest.name}: detail: {error}")
            return
        if not isinstance(detail, dict):
            errors.append(f"{url}: detail is not an object")
            return
        tools = common.tools(detail.get("tools"), url, errors)
        if tools:
            manifest.tools = tools
        security = common.obj(detail.get("security"))
        connections = [common.compact({"type": common.text(c.get("type"), 50),
                                       "url": common.text(c.get("deploymentUrl") or c.get("url"), 1000)})
                       for c in map(common.obj, common.items(detail.get("connections"))[:20])]
        manifest.meta.update(common.compact({
            "scan_passed": common.flag(security.get("scanPassed")),
            "remote": common.flag(detail.get("remote")),
            "deployment_url": common.text(detail.get("deploymentUrl"), 1000),
            "connections": [c for c in connections if c],
        }))
        manifest.title = manifest.title or common.text(detail.get("displayName"), 200)
        manifest.description = manifest.description or common.verbatim(detail.get("description"))


def parse_list(document, where, page, page_size):
    """(server entries, whether another page follows)."""
    if isinstance(document, list):
        entries = document
        document = {}
    elif isinstance(document, dict):
        entries = next((document[k] for k in ("servers", "items", "data", "results")
                        if isinstance(document.get(k), list)), None)
        if entries is None:
            raise PageError(f"{where}: not a Smithery server list (no \"servers\" array)")
    else:
        raise PageError(f"{where}: not a Smithery server list")
    paging = common.obj(document.get("pagination"))
    total = paging.get("totalPages")
    if isinstance(total, int) and not isinstance(total, bool):
        more = page < total
    else:
        more = len(entries) >= page_size
    return entries, more and bool(entries)


def parse_server(entry, where, errors):
    from ..manifest import ServerManifest

    if not isinstance(entry, dict):
        errors.append(f"{where}: skipped: expected an object, got {type(entry).__name__}")
        return None
    raw = next((entry[k] for k in ("qualifiedName", "name", "id") if isinstance(entry.get(k), str)), None)
    name = common.server_name(raw, where, errors)
    if name is None:
        return None
    meta = common.compact({
        "smithery_name": name,
        "homepage": common.text(entry.get("homepage"), 1000),
        "repository": common.text(entry.get("repository") if isinstance(entry.get("repository"), str)
                                  else common.obj(entry.get("repository")).get("url"), 1000),
        "verified": common.flag(entry.get("verified")),
        "remote": common.flag(entry.get("remote")),
        "use_count": entry.get("useCount") if isinstance(entry.get("useCount"), int) else None,
        "created_at": common.text(entry.get("createdAt"), 40),
    })
    return ServerManifest(name=name, source=NAME, tools=None, title=common.text(entry.get("displayName"), 200),
                          description=common.verbatim(entry.get("description")), meta=meta)
