"""Real HTTP servers on 127.0.0.1 for the crawl tests and the benchmark, serving payloads in the
real shapes of tests/fixtures/reference (official registry v0.1, Docker catalog, Glama, Smithery).

Nothing here imports mcp-risk: the servers are what the crawler meets on the internet.
"""

import base64
import copy
import hashlib
import json
import threading
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

REFERENCE = Path(__file__).resolve().parents[1] / "fixtures" / "reference"
OFFICIAL = "io.modelcontextprotocol.registry/official"


def reference(name):
    return json.loads((REFERENCE / name).read_text(encoding="utf-8"))


class Reply:
    def __init__(self, status=200, body=b"", headers=None, delay=0.0, hang=False):
        self.status = status
        self.body = body if isinstance(body, bytes) else body.encode("utf-8")
        self.headers = dict(headers or {})
        self.delay = delay
        self.hang = hang


def json_reply(document, *, etag=True, request=None, delay=0.0, headers=None):
    """A JSON reply with an ETag; a 304 when the request already holds that ETag."""
    body = json.dumps(document).encode("utf-8")
    headers = {"Content-Type": "application/json", **(headers or {})}
    if etag:
        tag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        headers["ETag"] = tag
        if request is not None and request.headers.get("If-None-Match") == tag:
            return Reply(304, b"", {"ETag": tag}, delay=delay)
    return Reply(200, body, headers, delay=delay)


class Request:
    def __init__(self, method, path, query, headers):
        self.method = method
        self.path = path
        self.query = query  # {name: first value}
        self.headers = headers


class Loopback:
    """A threaded HTTP server on 127.0.0.1 whose replies come from `handler(request) -> Reply`."""

    def __init__(self, handler, delay=0.0):
        self.handler = handler
        self.delay = delay  # added to every response
        self.requests = []
        self.lock = threading.Lock()
        self.closing = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes: without this, Nagle's algorithm and delayed
            # ACKs hold the body back ~40 ms on keep-alive connections, which no real server does.
            disable_nagle_algorithm = True

            def do_GET(self):  # noqa: N802
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
                request = Request("GET", unquote(parts.path), query, self.headers)  # case-insensitive
                with outer.lock:
                    outer.requests.append(request)
                reply = outer.handler(request)
                wait = outer.delay + reply.delay
                if wait:
                    time.sleep(wait)
                if reply.hang:  # accept, then say nothing until the test ends
                    outer.closing.wait(30)
                    self.close_connection = True
                    return
                self.send_response(reply.status)
                headers = {"Date": format_datetime(datetime.now(timezone.utc), usegmt=True), **reply.headers}
                for key, value in headers.items():
                    self.send_header(key, value)
                if reply.status != 304:
                    self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                if reply.status != 304:
                    self.wfile.write(reply.body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.closing.set()
        self.server.shutdown()
        self.server.server_close()

    def paths(self):
        with self.lock:
            return [r.path for r in self.requests]


# -- the official registry, v0.1 ----------------------------------------------------------------

def _stamp(moment):
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Registry:
    """The generic MCP registry API v0.1 over a list of server.json entries in the seed's real shape.

    Pages of `limit` (≤ 100) by an opaque cursor; `version=latest`; `updated_since` returns what
    changed since, deleted entries included (as the real API does); without it, deleted entries
    are left out.
    """

    def __init__(self, count=250, *, page_delay=0.0):
        seed = reference("official_registry_seed.example.json")
        base = datetime(2025, 9, 1, tzinfo=timezone.utc)
        self.entries = []
        for index in range(count):
            server = copy.deepcopy(seed[index % len(seed)])
            stem = server["name"].split("/", 1)[1]
            server["name"] = f"io.github.loopback{index:05d}/{stem}"
            server["repository"]["url"] = f"https://github.com/loopback{index:05d}/{stem}.git"
            for package in server.get("packages", []):
                if package["registryType"] in ("npm", "pypi", "nuget"):
                    package["identifier"] = f"{package['identifier']}-{index:05d}"
                elif package["registryType"] == "oci":
                    package["identifier"] = f"docker.io/loopback{index:05d}/{stem}:{server['version']}"
            moment = base + timedelta(minutes=index)
            self.entries.append({"server": server, "_meta": {OFFICIAL: {
                "status": "active", "publishedAt": _stamp(moment), "updatedAt": _stamp(moment), "isLatest": True}}})
        self.page_delay = page_delay
        self.version = 0  # bumped by every change: cached pages are for one version
        self._pages = {}
        self.faults = {}  # request number (1-based, counting list requests) -> Reply
        self.list_requests = 0
        self.lock = threading.Lock()

    def touch(self, index, **changes):
        """Change entry `index` now: status, description, ..."""
        entry = self.entries[index]
        official = entry["_meta"][OFFICIAL]
        if "status" in changes:
            official["status"] = changes.pop("status")
        entry["server"].update(changes)
        official["updatedAt"] = _stamp(datetime.now(timezone.utc))
        self.version += 1

    def add(self, name, description="Added later."):
        seed = reference("official_registry_seed.example.json")[2]
        server = copy.deepcopy(seed)
        server["name"], server["description"] = name, description
        server["repository"]["url"] = f"https://github.com/{name.split('/')[-1]}/added.git"
        now = _stamp(datetime.now(timezone.utc))
        self.entries.append({"server": server, "_meta": {OFFICIAL: {
            "status": "active", "publishedAt": now, "updatedAt": now, "isLatest": True}}})
        self.version += 1

    def __call__(self, request):
        if request.path.rstrip("/") != "/v0.1/servers":
            return Reply(404, b'{"error":"Not found"}')
        with self.lock:
            self.list_requests += 1
            fault = self.faults.pop(self.list_requests, None)
        if fault is not None:
            return fault
        limit = min(int(request.query.get("limit", 30)), 100)
        body, tag = self.page(request.query.get("cursor"), request.query.get("updated_since"), limit)
        if request.headers.get("If-None-Match") == tag:
            return Reply(304, b"", {"ETag": tag}, delay=self.page_delay)
        return Reply(200, body, {"Content-Type": "application/json", "ETag": tag}, delay=self.page_delay)

    def page(self, cursor, since, limit):
        """(body, ETag) of a page, computed once per state of the data: the server itself stays cheap."""
        key = (cursor, since, limit, len(self.entries), self.version)
        with self.lock:
            cached = self._pages.get(key)
        if cached is None:
            body = json.dumps(self._page(cursor, since, limit)).encode("utf-8")
            cached = (body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')
            with self.lock:
                self._pages[key] = cached
        return cached

    def warm(self, limit=100):
        """Compute every page of a full walk ahead, as a warmed-up production server would have."""
        cursor = None
        while True:
            body, _ = self.page(cursor, None, limit)
            cursor = json.loads(body)["metadata"].get("nextCursor")
            if not cursor:
                return

    def _page(self, cursor, since, limit):
        if since:
            rows = [e for e in self.entries if e["_meta"][OFFICIAL]["updatedAt"] > since]
        else:
            rows = [e for e in self.entries if e["_meta"][OFFICIAL]["status"] != "deleted"]
        start = 0
        if cursor:
            after = base64.urlsafe_b64decode(cursor.encode()).decode()
            start = next((i + 1 for i, e in enumerate(rows) if e["server"]["name"] == after), len(rows))
        page = rows[start : start + limit]
        metadata = {"count": len(page)}
        if start + limit < len(rows):
            metadata["nextCursor"] = base64.urlsafe_b64encode(page[-1]["server"]["name"].encode()).decode()
        return {"servers": page, "metadata": metadata}


# -- Docker's catalog ---------------------------------------------------------------------------

def docker_catalog(base_url):
    """catalog.json ({version, name, registry: {name: tile}}) built from the real mcp-registry dump:
    tiles list their tools by name and link to the full list (toolsUrl)."""
    dump = reference("docker_mcp_registry_servers_and_tools.json")["servers"]
    registry, tools = {}, {}
    for name, entry in dump.items():
        yaml = entry["server_yaml"]
        about, source, run, config = (yaml.get(k) or {} for k in ("about", "source", "run", "config"))
        tile = {
            "description": about.get("description"), "title": about.get("title"), "type": yaml.get("type"),
            "image": yaml.get("image"), "upstream": source.get("project"), "icon": about.get("icon"),
            "secrets": config.get("secrets"), "env": config.get("env"),
            "metadata": {"category": (yaml.get("meta") or {}).get("category"), "tags": (yaml.get("meta") or {}).get("tags")},
        }
        for key in ("disableNetwork", "allowHosts", "volumes"):
            if key in run:
                tile[key] = run[key]
        if yaml.get("remote"):
            tile["remote"] = yaml["remote"]
        if entry["tools_json"]:
            tile["tools"] = [{"name": t["name"]} for t in entry["tools_json"]]
            tile["toolsUrl"] = f"{base_url}/tools/{name}.json"
            tools[name] = entry["tools_json"]
        registry[name] = {k: v for k, v in tile.items() if v is not None}
    return {"version": 3, "name": "docker-mcp", "registry": registry}, tools


class DockerCatalog:
    def __init__(self):
        self.url = None
        self.catalog = None
        self.tools = None

    def bind(self, url):
        self.url = url
        self.catalog, self.tools = docker_catalog(url)

    def __call__(self, request):
        if request.path == "/catalog.json":
            return json_reply(self.catalog, request=request)
        if request.path.startswith("/tools/") and request.path.endswith(".json"):
            name = request.path[len("/tools/"):-len(".json")]
            if name in self.tools:
                return json_reply(self.tools[name], request=request)
        return Reply(404, b'{"error":"not found"}')


# -- Glama --------------------------------------------------------------------------------------

def glama_servers(count=25):
    """McpServer objects (the OpenAPI's shape), tools from the real tools/list snapshots."""
    snapshots = sorted((REFERENCE / "tools_list_snapshots").glob("*.json"))
    servers = []
    for index in range(count):
        snapshot = json.loads(snapshots[index % len(snapshots)].read_text())
        tools = (snapshot.get("result") or snapshot).get("tools", [])
        slug = f"{snapshots[index % len(snapshots)].stem}-{index}"
        servers.append({
            "id": f"{index:010d}", "name": slug.replace("-", " ").title(), "namespace": f"glama{index}",
            "slug": slug, "description": f"Server {index} from a real tools/list snapshot.",
            "attributes": ["hosting:local-only"], "environmentVariablesJsonSchema": None,
            "repository": {"url": f"https://github.com/glama{index}/{slug}"},
            "spdxLicense": {"name": "MIT", "url": "https://opensource.org/licenses/MIT"},
            "tools": [{"name": t["name"], "description": t.get("description"), "inputSchema": t.get("inputSchema")}
                      for t in tools],
            "url": f"https://glama.ai/mcp/servers/glama{index}/{slug}",
        })
    return servers


class Glama:
    def __init__(self, servers, page_size_cap=100):
        self.servers = servers
        self.cap = page_size_cap

    def __call__(self, request):
        if request.path != "/v1/servers":
            return Reply(404, b'{"error":{"code":"not_found","message":"Not found"}}')
        first = min(int(request.query.get("first", 10)), self.cap)
        start = int(base64.b64decode(request.query["after"]).decode()) if request.query.get("after") else 0
        page = self.servers[start : start + first]
        end = start + len(page)
        more = end < len(self.servers)
        cursor = base64.b64encode(str(end).encode()).decode()
        return json_reply({"pageInfo": {"endCursor": cursor, "hasNextPage": more, "hasPreviousPage": start > 0,
                                        "startCursor": base64.b64encode(str(start).encode()).decode()},
                           "servers": page}, request=request)


# -- Smithery -----------------------------------------------------------------------------------

class Smithery:
    """`GET /servers?page=&pageSize=` and `GET /servers/{qualifiedName}`, Bearer key required.
    Smithery's list fields are not verified against a real payload (see the reference README);
    these follow its documentation: servers[], pagination{currentPage, pageSize, totalPages}."""

    def __init__(self, key, count=12):
        self.key = key
        snapshots = sorted((REFERENCE / "tools_list_snapshots").glob("*.json"))
        self.servers = []
        for index in range(count):
            snapshot = json.loads(snapshots[index % len(snapshots)].read_text())
            self.servers.append({
                "qualifiedName": f"@smithery{index}/{snapshots[index % len(snapshots)].stem}",
                "displayName": f"Server {index}", "description": f"Smithery server {index}",
                "homepage": f"https://smithery.ai/server/{index}", "useCount": index, "createdAt": "2025-05-01T00:00:00Z",
                "tools": snapshot.get("tools", []),
            })

    def __call__(self, request):
        if request.headers.get("Authorization") != f"Bearer {self.key}":
            return Reply(401, b'{"error":"Unauthorized"}')
        if request.path == "/servers":
            page, size = int(request.query.get("page", 1)), int(request.query.get("pageSize", 10))
            rows = self.servers[(page - 1) * size : page * size]
            total = (len(self.servers) + size - 1) // size
            listed = [{k: v for k, v in s.items() if k != "tools"} for s in rows]
            return json_reply({"servers": listed, "pagination": {"currentPage": page, "pageSize": size,
                                                                 "totalPages": total, "totalCount": len(self.servers)}},
                              request=request)
        for server in self.servers:
            if request.path == f"/servers/{server['qualifiedName']}":
                return json_reply({**server, "remote": True, "security": {"scanPassed": True},
                                   "connections": [{"type": "http", "deploymentUrl": "https://server.smithery.ai/x/mcp"}]},
                                  request=request)
        return Reply(404, b'{"error":"Server not found"}')
