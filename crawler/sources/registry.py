"""An MCP registry (API v0.1): the official registry, or any sub-registry serving the same API.

`GET /v0.1/servers?limit=100&version=latest[&cursor=…][&updated_since=…]` until `nextCursor`
is absent. Servers come with packages and remotes but no tools (those come from probing).
After a complete walk the next crawl asks only for what changed since (`updated_since`), which
also brings deleted servers in, so they can be marked.

State: {"updated_since": RFC 3339 of the last complete walk,
        "resume": {"endpoint", "cursor", "since", "next_since", "page"} while a walk is unfinished}
"""

from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

from ..http import PageError
from . import common

NAME = "registry"
DEFAULT_URL = "https://registry.modelcontextprotocol.io"
PAGE_SIZE = 100
OFFICIAL_META = "io.modelcontextprotocol.registry/official"
STATUSES = ("active", "deprecated", "deleted")
# Ask for a little more than "since the last walk began", in case clocks disagree.
SINCE_MARGIN = timedelta(minutes=2)


def endpoint(url):
    """The list endpoint for a registry base URL (or the endpoint itself)."""
    url = (url or DEFAULT_URL).strip().rstrip("/")
    path = urlsplit(url).path
    if path.endswith("/servers"):
        return url
    return f"{url}/v0.1/servers"


def rfc3339(moment):
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


class RegistrySource:
    kind = NAME

    def __init__(self, url=None, *, name=None, full=False, page_size=PAGE_SIZE):
        self.endpoint = endpoint(url)
        self.location = self.endpoint
        self.name = name or (NAME if self.endpoint == endpoint(DEFAULT_URL) else f"{NAME}:{urlsplit(self.endpoint).netloc}")
        self.full = full
        self.page_size = page_size

    async def pages(self, http, state):
        updated_since = state.get("updated_since") if isinstance(state.get("updated_since"), str) else None
        resume = common.obj(state.get("resume"))
        if resume.get("endpoint") == self.endpoint and isinstance(resume.get("cursor"), str):
            cursor, since = resume["cursor"], resume.get("since")
            next_since, page_no = resume.get("next_since"), int(resume.get("page") or 0)
        else:
            cursor, since, next_since, page_no = None, (None if self.full else updated_since), None, 0
        from ..pages import cursor_walk

        walk = cursor_walk(lambda at, sent: self._get(http, at, since, sent), cursor, next_cursor_of, "nextCursor")
        try:
            async for fetched, document, next_cursor, cursor_error in walk:
                if next_since is None:
                    started = fetched.server_date() or datetime.now(timezone.utc)
                    next_since = rfc3339(started - SINCE_MARGIN)
                manifests, errors = parse_page(document, fetched.url, self.endpoint)
                if cursor_error:
                    errors.append(cursor_error)
                page_no += 1
                if next_cursor:
                    new_state = {"resume": {"endpoint": self.endpoint, "cursor": next_cursor, "since": since,
                                            "next_since": next_since, "page": page_no}}
                    if updated_since:
                        new_state["updated_since"] = updated_since
                else:
                    new_state = {"updated_since": next_since}
                yield _page(manifests, new_state, fetched, errors, done=not next_cursor)
        finally:
            await walk.aclose()

    async def _get(self, http, cursor, since, sent):
        params = {"limit": self.page_size, "version": "latest"}
        if cursor:
            params["cursor"] = cursor
        if since:
            params["updated_since"] = since
        return await http.get(self.endpoint, params=params, sent=sent)


def _page(manifests, state, fetched, errors, done):
    from ..pages import Page

    return Page(manifests=manifests, state=state, url=fetched.url, errors=errors,
                not_modified=fetched.not_modified, done=done)


def next_cursor_of(document, where):
    """(the next page's cursor or None, an error message or None)."""
    metadata = common.obj(document.get("metadata")) if isinstance(document, dict) else {}
    cursor = metadata.get("nextCursor")
    if cursor is not None and not isinstance(cursor, str):
        return None, f"{where}: metadata.nextCursor is not a string: ignored"
    return (cursor or None), None


def parse_page(document, where, registry):
    """(manifests, errors) of one `ServerList` response. PageError if not one."""
    if not isinstance(document, dict) or not isinstance(document.get("servers"), list):
        raise PageError(f"{where}: not a registry server list (no \"servers\" array)")
    errors, manifests = [], []
    for index, entry in enumerate(document["servers"]):
        manifest = parse_entry(entry, f"{where}: servers[{index}]", errors, registry)
        if manifest is not None:
            manifests.append(manifest)
    return manifests, errors


def parse_entry(entry, where, errors, registry, source=NAME):
    """A ServerResponse ({server, _meta}) or a bare server.json, as a ServerManifest (or None)."""
    if not isinstance(entry, dict):
        errors.append(f"{where}: skipped: expected an object, got {type(entry).__name__}")
        return None
    server = entry.get("server") if isinstance(entry.get("server"), dict) else entry
    official = common.obj(common.obj(entry.get("_meta")).get(OFFICIAL_META)) or \
        common.obj(common.obj(server.get("_meta")).get(OFFICIAL_META))
    status = common.text(official.get("status"), 20)
    status = status.lower() if status else None
    if status is not None and status not in STATUSES:
        errors.append(f"{where}: unknown status {status!r}: treated as active")
        status = "active"
    extra = common.compact({
        "registry": registry,
        "status": status,
        "status_message": common.text(official.get("statusMessage"), 500),
        "published_at": common.text(official.get("publishedAt"), 40),
        "updated_at": common.text(official.get("updatedAt"), 40),
        "is_latest": common.flag(official.get("isLatest")),
    })
    return common.registry_server(server, extra, where, errors, source)
