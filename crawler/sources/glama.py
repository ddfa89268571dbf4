"""Glama's MCP directory API: `GET /v1/servers?first=100&after=…` → {pageInfo, servers[]}.

Each server comes with its tools (name, description, inputSchema; no annotations), its
repository, licence and the environment variables it needs.

State: {"resume": {"url", "after", "page"}} while a walk is unfinished.
"""

from urllib.parse import urlsplit

from ..http import PageError
from ..pages import Page, cursor_walk
from . import common

NAME = "glama"
DEFAULT_URL = "https://glama.ai/api/mcp"
PAGE_SIZE = 100


class GlamaSource:
    kind = NAME
    lists_everything = True  # a complete walk is the whole listing: what it lacks is no longer listed

    def __init__(self, url=None, *, name=None, query=None, page_size=PAGE_SIZE):
        base = (url or DEFAULT_URL).rstrip("/")
        self.endpoint = base if urlsplit(base).path.endswith("/servers") else f"{base}/v1/servers"
        self.location = self.endpoint
        self.name = name or (NAME if base == DEFAULT_URL else f"{NAME}:{urlsplit(base).netloc}")
        self.query = query
        self.page_size = page_size

    async def pages(self, http, state):
        resume = common.obj(state.get("resume"))
        if resume.get("url") == self.endpoint and isinstance(resume.get("after"), str):
            after, page_no = resume["after"], int(resume.get("page") or 0)
        else:
            after, page_no = None, 0
        walk = cursor_walk(lambda at, sent: self._get(http, at, sent), after, _next_after, "endCursor")
        try:
            async for fetched, document, next_after, _ in walk:
                manifests, errors = parse_page(document, fetched.url)
                page_no += 1
                state = {"resume": {"url": self.endpoint, "after": next_after, "page": page_no}} if next_after else {}
                yield Page(manifests=manifests, state=state, url=fetched.url, errors=errors,
                           not_modified=fetched.not_modified, done=not next_after)
        finally:
            await walk.aclose()

    async def _get(self, http, after, sent):
        params = {"first": self.page_size}
        if after:
            params["after"] = after
        if self.query:
            params["query"] = self.query
        return await http.get(self.endpoint, params=params, sent=sent)


def _next_after(document, where):
    return end_cursor(document), None


def end_cursor(document):
    """The cursor of the next page, or None on the last one."""
    info = common.obj(document.get("pageInfo")) if isinstance(document, dict) else {}
    cursor = info.get("endCursor")
    return cursor if (info.get("hasNextPage") is True and isinstance(cursor, str) and cursor) else None


def parse_page(document, where):
    if not isinstance(document, dict) or not isinstance(document.get("servers"), list):
        raise PageError(f"{where}: not a Glama server list (no \"servers\" array)")
    errors, manifests = [], []
    for index, entry in enumerate(document["servers"]):
        manifest = parse_server(entry, f"{where}: servers[{index}]", errors)
        if manifest is not None:
            manifests.append(manifest)
    return manifests, errors


def parse_server(entry, where, errors):
    from ..manifest import ServerManifest

    if not isinstance(entry, dict):
        errors.append(f"{where}: skipped: expected an object, got {type(entry).__name__}")
        return None
    namespace, slug = common.text(entry.get("namespace"), 200), common.text(entry.get("slug"), 200)
    raw_name = f"{namespace}/{slug}" if namespace and slug else entry.get("name")
    name = common.server_name(raw_name, where, errors)
    if name is None:
        return None
    env_schema = common.obj(entry.get("environmentVariablesJsonSchema"))
    env_properties = common.obj(env_schema.get("properties"))
    meta = common.compact({
        "glama_id": common.text(entry.get("id"), 50),
        "url": common.text(entry.get("url"), 1000),
        "repository": common.text(common.obj(entry.get("repository")).get("url"), 1000),
        "license": common.text(common.obj(entry.get("spdxLicense")).get("name"), 100),
        "attributes": common.strings(entry.get("attributes")),
        "env": [common.text(k, 200) for k in list(env_properties)[:100] if common.text(k, 200)],
        "env_required": common.strings(env_schema.get("required")),
    })
    tools = common.tools(entry.get("tools"), where, errors)
    # An empty list means Glama has not seen the tools, not that there are none.
    return ServerManifest(name=name, source=NAME, tools=tools or None, title=common.text(entry.get("name"), 200),
                          description=common.verbatim(entry.get("description")), meta=meta)
