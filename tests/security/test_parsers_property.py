"""Every parser of untrusted input, fed anything: it returns well-typed results that the catalogue can
store, or raises its own clear error. Never another exception, never a hang.

Inputs: arbitrary JSON (recursive, bounded), real documents with any field replaced by a value of
any type, renamed to a hostile key or deleted, names full of controls, bidi overrides, zero-width
characters, lone surrogates and confusables, JSON nested 5,000 levels deep, strings of megabytes.
"""

import json
import time

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from mcp_risk.policies.decisions import ACTIONS, Overrides, OverridesError, decide
from mcp_risk.policies.export import safe_filename, sidecar_name, unique_filename
from mcp_risk.policies.formats import CHECK, FORMATS, PolicyFormatError, pins, render
from crawl.loopback import REFERENCE, docker_catalog, glama_servers, reference
from mcp_risk.crawler import config as crawl_config
from mcp_risk.crawler.http import PageError
from mcp_risk.crawler.live.configs import ServerSpec, parse_json, read_config, spec_from_entry
from mcp_risk.crawler.manifest import ManifestError, normalize_tool
from mcp_risk.crawler.sources import awesome, docker, files, glama, registry, smithery
from mcp_risk.crawler.sources.snapshot import read_snapshot
from mcp_risk.crawler.sources.tools_file import read_tools

from .hostile import (check_errors, check_manifest, check_tool, deep_json, documents_of, expect,
                      json_values, mutated, names, nested, printable_json, tool_objects)

# -- real documents to mutate (small slices: every example deep-copies one) -------------------------

SNAPSHOTS = sorted((REFERENCE / "tools_list_snapshots").glob("*.json"))
_LISTED = json.loads((REFERENCE / "tools_list_snapshots" / "server-filesystem.json").read_text())
TOOLS_LIST = {"jsonrpc": "2.0", "id": 1, "result": {"tools": (_LISTED.get("result") or _LISTED)["tools"][:3]}}
SEED = reference("official_registry_seed.example.json")[:2]
REGISTRY_PAGE = {"servers": [{"server": s, "_meta": {registry.OFFICIAL_META: {
    "status": "active", "publishedAt": "2025-09-01T00:00:00Z", "isLatest": True}}} for s in SEED],
    "metadata": {"nextCursor": "abc", "count": 2}}
_DUMP = reference("docker_mcp_registry_servers_and_tools.json")["servers"]
DOCKER_REPO = {"servers": {k: _DUMP[k] for k in list(_DUMP)[:40] if _DUMP[k]["tools_json"]}}
DOCKER_REPO = {"servers": dict(list(DOCKER_REPO["servers"].items())[:2])}
_CATALOG = docker_catalog("https://example.invalid")[0]
DOCKER_CATALOG = {**_CATALOG, "registry": dict(list(_CATALOG["registry"].items())[:3])}
GLAMA_PAGE = {"pageInfo": {"hasNextPage": True, "endCursor": "c1"}, "servers": glama_servers(2)}
for _server in GLAMA_PAGE["servers"]:
    _server["tools"] = _server["tools"][:2]
SMITHERY_PAGE = {"servers": [{"qualifiedName": "@a/b", "displayName": "B", "description": "d", "homepage": "https://x",
                              "useCount": 3, "verified": True, "createdAt": "2025-01-01"}],
                 "pagination": {"currentPage": 1, "totalPages": 2}}
_TOOLHIVE = reference("toolhive_registry.json")
TOOLHIVE = {**_TOOLHIVE, "servers": dict(list(_TOOLHIVE["servers"].items())[:2]),
            "remote_servers": dict(list(_TOOLHIVE["remote_servers"].items())[:1])}
_UPSTREAM = reference("toolhive_upstream-format-registry.example.json")
UPSTREAM = {**_UPSTREAM, "data": {**_UPSTREAM["data"], "servers": _UPSTREAM["data"]["servers"][:2]}}
CLIENT_CONFIG = {"mcpServers": {
    "fs": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "./data"], "env": {"A": "1"}},
    "remote": {"type": "http", "url": "https://example.invalid/mcp", "headers": {"Authorization": "Bearer x"}},
    "vs": {"type": "sse", "serverUrl": "http://127.0.0.1:9/sse"}}}
OVERRIDES = {"categories": {"execute": "deny"}, "tools": {"run_sql": {"action": "ask", "reason": "DBA"}},
             "servers": {"github/github-mcp-server": {"categories": {"destructive": "ask"},
                                                      "tools": {"delete_file": {"action": "allow", "per_minute": 5}}}}}
CRAWL_TOML = {"db": "c.db", "http": {"rate_per_minute": 60, "timeout": 5}, "limits": {"max_pages": 3},
              "sources": [{"kind": "registry", "url": "https://example.invalid"},
                          {"kind": "file", "paths": ["a.json"], "server": "s", "name": "files"},
                          {"kind": "snapshot", "path": "s.jsonl"}]}
WHERE = "https://example.invalid/page"
DEEP = DEEP_TEXT = 5_000


# -- tools --------------------------------------------------------------------------------------------

@given(st.one_of(tool_objects, json_values))
def test_normalize_tool(obj):
    tool = expect(lambda: normalize_tool(obj, "where"), ManifestError)
    if tool is not None:
        check_tool(tool)


@given(st.one_of(
    st.lists(tool_objects, max_size=4).map(lambda tools: json.dumps({"result": {"tools": tools}})),
    st.lists(tool_objects, max_size=4).map(lambda tools: "\n".join(json.dumps(t) for t in tools)),
    documents_of(TOOLS_LIST).map(json.dumps),
    json_values.map(json.dumps),
    st.text(max_size=200),
))
def test_read_tools(text):
    """`mcp-risk classify` input: tools/list results and JSON lines."""
    tools = expect(lambda: read_tools(text, "<stdin>"), ManifestError)
    for tool in tools or []:
        check_tool(tool)
        printable_json({"id": tool["id"], "server": tool["server"], "name": tool["name"]})


@given(st.lists(st.one_of(tool_objects, json_values).map(lambda row: json.dumps(row)), max_size=5))
def test_read_snapshot(tmp_path_factory, lines):
    path = tmp_path_factory.mktemp("snapshot") / "rows.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    manifests = expect(lambda: list(read_snapshot(path)), ManifestError)
    for manifest in manifests or []:
        check_manifest(manifest, strict_names=False)


# -- catalogue sources -----------------------------------------------------------------------------

@given(documents_of(REGISTRY_PAGE))
def test_registry_page(document):
    cursor, error = registry.next_cursor_of(document, WHERE)
    assert cursor is None or (isinstance(cursor, str) and cursor)
    assert error is None or isinstance(error, str)
    result = expect(lambda: registry.parse_page(document, WHERE, "https://example.invalid"), PageError)
    if result is not None:
        manifests, errors = result
        check_errors(errors)
        for manifest in manifests:
            check_manifest(manifest)
            assert manifest.tools is None


@given(st.one_of(documents_of(DOCKER_REPO), documents_of(DOCKER_CATALOG)))
def test_docker_catalog(document):
    result = expect(lambda: docker.parse_catalog(document, WHERE), PageError)
    if result is not None:
        manifests, errors, pending = result
        check_errors(errors)
        for manifest in manifests:
            check_manifest(manifest)
        for manifest, url in pending:
            assert manifest in manifests and isinstance(url, str)


@given(documents_of(GLAMA_PAGE))
def test_glama_page(document):
    cursor = glama.end_cursor(document)
    assert cursor is None or (isinstance(cursor, str) and cursor)
    result = expect(lambda: glama.parse_page(document, WHERE), PageError)
    if result is not None:
        check_errors(result[1])
        for manifest in result[0]:
            check_manifest(manifest)


@given(documents_of(SMITHERY_PAGE), st.integers(1, 5))
def test_smithery_list(document, page):
    result = expect(lambda: smithery.parse_list(document, WHERE, page, 100), PageError)
    if result is None:
        return
    entries, more = result
    assert isinstance(entries, list) and isinstance(more, bool)
    errors = []
    for index, entry in enumerate(entries):
        manifest = smithery.parse_server(entry, f"{WHERE}: servers[{index}]", errors)
        if manifest is not None:
            check_manifest(manifest)
    check_errors(errors)


markdown_lines = st.one_of(
    st.tuples(st.sampled_from(["- ", "* ", "+ ", "  - ", "- [x] "]), names,
              st.sampled_from(["https://github.com/a/b", "https://gitlab.com/x/y/-/tree/main/s", "http://evil", "javascript:x"]),
              st.sampled_from([" - ", " : ", " ", " — "]), names)
    .map(lambda p: f"{p[0]}[{p[1]}]({p[2]}){p[3]}{p[4]}"),
    st.tuples(st.sampled_from(["# ", "## ", "### ", "####### "]), names).map("".join),
    st.sampled_from(["```", "~~~", "", "<li><a href='https://github.com/a/b'>x</a></li>"]),
    names,
)
html_items = st.tuples(st.sampled_from(["<li>", "<li><b>", "<h3>", "<ul>", "</ul>", "<li>- ", "<script>", "<svg/>", ""]),
                       names, st.sampled_from(["https://github.com/o/r", "https://codeberg.org/o/r", "x"]), names,
                       st.sampled_from(["</li>", "", "</h3>", "</a>", "</script>"])) \
    .map(lambda p: f"{p[0]}<a href=\"{p[2]}\">{p[1]}</a> - {p[3]}{p[4]}")


@given(st.one_of(st.lists(markdown_lines, max_size=8).map("\n".join),
                 st.lists(html_items, max_size=8).map(lambda items: "<html><body><ul>" + "".join(items)),
                 st.text(max_size=300)),
       st.sampled_from(["", "text/html; charset=utf-8", "text/markdown"]))
def test_awesome_list(text, content_type):
    result = expect(lambda: awesome.parse_list(text, WHERE, content_type), PageError)
    if result is not None:
        check_errors(result[1])
        for manifest in result[0]:
            check_manifest(manifest)


@given(st.one_of(
    documents_of(TOOLHIVE).map(json.dumps),
    documents_of(UPSTREAM).map(json.dumps),
    documents_of(DOCKER_REPO).map(json.dumps),
    documents_of(REGISTRY_PAGE).map(json.dumps),
    documents_of(TOOLS_LIST).map(json.dumps),
    st.lists(tool_objects, max_size=4).map(lambda tools: "\n".join(json.dumps(t) for t in tools)),
    st.text(max_size=200),
), st.one_of(st.none(), names))
def test_files_parse_document(text, server):
    """`mcp-risk crawl file`: every kind of file, recognised by content."""
    result = expect(lambda: files.parse_document(text, "file.json", server, default="file"), ManifestError)
    if result is not None:
        check_errors(result[1])
        for manifest in result[0]:
            check_manifest(manifest)


# -- configuration the user points us at --------------------------------------------------------------

@given(documents_of(CRAWL_TOML))
def test_crawl_toml(tmp_path_factory, document):
    path = tmp_path_factory.mktemp("config") / "crawl.toml"
    if not isinstance(document, dict):
        document = {"sources": document}
    plan = expect(lambda: crawl_config.parse(document, path), crawl_config.ConfigError)
    if plan is not None:
        assert plan.db is None or isinstance(plan.db, str)
        assert plan.entries and all(isinstance(source.name, str) for source, _, _ in plan.entries)


@given(st.text(max_size=300))
def test_crawl_toml_text(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("config") / "crawl.toml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    expect(lambda: crawl_config.load(path), crawl_config.ConfigError)


def check_spec(spec):
    assert isinstance(spec, ServerSpec)
    spec.name.encode("utf-8")  # printed in reports, stored as a server's name
    if spec.problem is not None:
        assert isinstance(spec.problem, str)
        return
    if spec.url is not None:
        assert spec.url.lower().startswith(("http://", "https://")) and spec.command is None
    else:
        assert isinstance(spec.command, str) and spec.command.strip() and "\x00" not in spec.command
        assert all(isinstance(a, str) and "\x00" not in a for a in spec.args)
    for mapping in (spec.env, spec.headers):
        assert all(isinstance(k, str) and isinstance(v, str) and "\x00" not in k + v for k, v in mapping.items())


@given(names, st.one_of(mutated(CLIENT_CONFIG["mcpServers"]["fs"]), mutated(CLIENT_CONFIG["mcpServers"]["remote"]),
                        json_values))
@example(name="s", entry={"command": "node", "args": ["./\x00server.js"]})  # Path.resolve() raised ValueError
@example(name="s\ud800", entry={"command": "../x\udc00"})  # and UnicodeEncodeError
def test_client_config_entry(tmp_path_factory, name, entry):
    base = tmp_path_factory.mktemp("project")
    spec = spec_from_entry(name, entry, origin="mcp.json", base_dir=base, workspace=base)
    if spec is not None:
        check_spec(spec)


@given(st.one_of(documents_of(CLIENT_CONFIG).map(json.dumps),
                 documents_of(CLIENT_CONFIG).map(lambda d: "// comment\n" + json.dumps(d, indent=1).replace("}", ",}")),
                 st.text(max_size=200)))
def test_client_config_file(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("client") / "mcp.json"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    specs = expect(lambda: read_config(path, cwd=path.parent), ManifestError)
    for spec in specs or []:
        check_spec(spec)
    expect(lambda: parse_json(text, "mcp.json"), ManifestError)


@given(documents_of(OVERRIDES))
def test_overrides_document(document):
    overrides = expect(lambda: Overrides(document), OverridesError)
    if overrides is None:
        return
    tools = [{"tool": "delete_file", "category": "destructive", "risk": "critical", "flags": [], "hash": "h"},
             {"tool": "run_sql", "category": "execute", "risk": "high", "flags": ["suspicious_instructions"]}]
    for decision in decide("github/github-mcp-server", tools, "balanced", overrides):
        assert decision.action in ACTIONS


@given(st.one_of(documents_of(OVERRIDES).map(json.dumps), st.text(max_size=200),
                 documents_of(OVERRIDES).map(lambda d: __import__("yaml").safe_dump(d, allow_unicode=True))),
       st.sampled_from([".yaml", ".json"]))
def test_overrides_file(tmp_path_factory, text, suffix):
    path = tmp_path_factory.mktemp("overrides") / f"overrides{suffix}"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    expect(lambda: Overrides.load(path), OverridesError)


# -- what we write: policies and their file names -----------------------------------------------------

# What the catalogue can hold: any non-blank text but half a surrogate pair (refused on the way in).
tool_names = names.filter(lambda n: n.strip() and not any("\ud800" <= c <= "\udfff" for c in n))


@given(st.lists(st.tuples(tool_names, st.sampled_from(["read", "write", "execute", "destructive", "financial", None]),
                          st.booleans()), min_size=1, max_size=6, unique_by=lambda t: t[0]),
       tool_names, st.sampled_from(FORMATS), st.sampled_from(["balanced", "strict", "permissive"]))
@example(tools=[("get\x85", "read", False)], server="srv\x85", fmt="intercept", profile="balanced")  # NEL: PyYAML read it back as a space
@example(tools=[("get\n", "read", False)], server="srv", fmt="cedar", profile="balanced")  # `$` matched before the newline
def test_every_policy_format_takes_any_name(tools, server, fmt, profile):
    rows = [{"tool": name, "category": category, "risk": "low", "confidence": 0.5, "hash": f"h{i}",
             "flags": ["suspicious_instructions"] if odd else [], "evidence": [name]}
            for i, (name, category, odd) in enumerate(tools)]
    text, sidecar = render(fmt, server, profile, decide(server, rows, profile))  # render runs CHECK
    CHECK[fmt](text)
    pinned = pins(sidecar if fmt in ("claude", "policylayer") else text)
    assert pinned["server"] == server
    assert set(pinned["decisions"]) == {name for name, _, _ in tools}  # every name, byte for byte
    text.encode("utf-8")


@given(st.lists(tool_names, min_size=1, max_size=30, unique=True), st.sampled_from([".json", ".yaml"]))
@example(servers=["NUL.0", "con", "github", "x.mcp-risk", "x"], suffix=".json")
def test_policy_file_names_never_escape_or_collide(servers, suffix):
    files = [safe_filename(s, suffix) for s in servers]
    assert len(set(files)) == len(files)
    taken = set(files) | {sidecar_name(f) for f in files}
    assert len(taken) == 2 * len(files) and "_index.json" not in taken
    for name in files:
        assert name.endswith(suffix) and len(name) <= 100
        assert not name.startswith((".", "-", "_")) and set(name) <= set("abcdefghijklmnopqrstuvwxyz0123456789._-")
        assert name.split(".")[0] not in {"con", "prn", "aux", "nul", "com1", "lpt1"}


def test_file_names_that_mimic_others_get_their_own():
    github = safe_filename("GitHub")
    assert safe_filename(github[: -len(".json")]) != github  # a plain name that copies a hashed one
    assert safe_filename("x.mcp-risk") != sidecar_name(safe_filename("x"))  # a name that copies a sidecar
    assert safe_filename("con") != "con.json" and safe_filename("nul.x") != "nul.x.json"
    assert safe_filename("github") == "github.json" and safe_filename("my-server") == "my-server.json"
    # Two names whose 32-bit short hashes agree can be found by brute force: the export notices.
    used = {safe_filename("GitHub")}
    forged = unique_filename("GitHub", ".json", used)
    assert forged not in {safe_filename("GitHub")} and len(forged) == len("github-") + 64 + len(".json")
    assert sidecar_name(forged) in used


_PINNED_TOOLS = [{"tool": "get", "category": "read", "risk": "low", "confidence": 0.9, "hash": "h1", "flags": []},
                 {"tool": "drop", "category": "destructive", "risk": "critical", "confidence": 0.8, "hash": "h2", "flags": []}]
POLICY = json.loads(render("policylayer", "srv", "balanced", decide("srv", _PINNED_TOOLS))[0])
INTERCEPT = render("intercept", "srv", "balanced", decide("srv", _PINNED_TOOLS))[0]


@given(st.one_of(documents_of(POLICY).map(json.dumps), documents_of(POLICY).map(
    lambda d: __import__("yaml").safe_dump(d, allow_unicode=True)), st.text(max_size=200),
    st.just(INTERCEPT), st.just(deep_json(DEEP_TEXT))))
def test_policy_pins(text):
    """`mcp-risk diff --policy FILE` reads back a policy anyone may have edited."""
    pinned = expect(lambda: pins(text), PolicyFormatError)
    if pinned is not None:
        assert isinstance(pinned["server"], str) and pinned["server"]
        for tool, decision in pinned["decisions"].items():
            assert isinstance(tool, str) and isinstance(decision, dict)
            for key in ("action", "category", "risk", "hash"):
                assert decision.get(key) is None or isinstance(decision[key], str)


# -- the extremes: deep nesting, megabytes, many lines -----------------------------------------------



@pytest.mark.parametrize("kind", ["list", "object"])
def test_json_nested_5000_deep_is_a_clear_error(tmp_path, kind):
    text = deep_json(DEEP, kind)
    for call in (lambda: read_tools(text, "x"), lambda: read_tools('{"tools": ' + text + "}", "x"),
                 lambda: files.parse_document(text, "x", None), lambda: parse_json(text, "x")):
        with pytest.raises(ManifestError, match="nested too deeply|not usable JSON"):
            call()
    snapshot = tmp_path / "deep.jsonl"
    snapshot.write_text(text + "\n")
    with pytest.raises(ManifestError, match="deep.jsonl:1"):
        list(read_snapshot(snapshot))
    for suffix in (".json", ".yaml"):
        path = tmp_path / f"o{suffix}"
        path.write_text(text if suffix == ".json" or kind == "list" else "a:\n" + "".join(
            "  " * i + "a:\n" for i in range(1, DEEP)))
        with pytest.raises(OverridesError, match="nested too deeply"):
            Overrides.load(path)
    toml = tmp_path / "crawl.toml"
    toml.write_text("db = " + "[" * DEEP + "]" * DEEP + "\n")
    with pytest.raises(crawl_config.ConfigError, match="nested too deeply"):
        crawl_config.load(toml)


def test_parsed_values_nested_deeper_than_any_schema_are_refused():
    """A value json.loads accepts (900 levels) but json.dumps, deeper in the stack, would not."""
    deep = nested(900, {"type": "string"}, kind="object")
    with pytest.raises(ManifestError, match="more than 64 levels"):
        normalize_tool({"name": "t", "inputSchema": deep}, "x")
    errors = []
    server = {"name": "io.github.a/b", "description": "d", "_meta": deep, "packages": [{"identifier": deep}]}
    manifest = registry.parse_entry(server, "x", errors, None)
    check_manifest(manifest)
    assert any("more than 64 levels" in e for e in errors)
    legacy = {"servers": {"s": {"description": "d", "permissions": deep, "tools": ["a"]}}}
    manifests, errors = files.parse_document(json.dumps(legacy), "x", None)
    for manifest in manifests:
        check_manifest(manifest)
    manifests, errors = files.parse_document(json.dumps({"tools": [{"name": "deep", "inputSchema": deep},
                                                                   {"name": "fine"}]}), "x", None, "s")
    assert [t["name"] for t in manifests[0].tools] == ["fine"] and any("64 levels" in e for e in errors)


def test_lone_surrogates_never_reach_the_catalogue(tmp_path):
    bad = '{"name": "t\\ud800", "description": "x"}'
    with pytest.raises(ManifestError, match="not valid Unicode"):
        read_tools(bad, "x")
    with pytest.raises(ManifestError, match="not valid Unicode"):
        read_tools('{"name": "t", "inputSchema": {"properties": {"\\udfff": {}}}}', "x")
    with pytest.raises(ManifestError, match="must be a string or a number"):
        read_tools('{"name": "t", "id": "\\ud800"}', "x")
    snapshot = tmp_path / "s.jsonl"
    snapshot.write_text('{"server": "s\\udc00", "tool": "t"}\n')
    with pytest.raises(ManifestError, match="s.jsonl:1.*not valid Unicode"):
        list(read_snapshot(snapshot))
    errors = []
    manifest = registry.parse_entry({"name": "io.github.a/b", "description": "evil \ud800 text"}, "x", errors, None)
    check_manifest(manifest)
    assert manifest.description == "evil \ufffd text"


HUGE_NUMBER = "9" * 5_000  # past int()'s 4,300 digits: ValueError, not a JSON error


def test_numbers_too_long_to_convert_are_a_clear_error(tmp_path):
    text = '{"name": "t", "tools": [], "n": ' + HUGE_NUMBER + "}"
    for call in (lambda: read_tools(text, "x"), lambda: files.parse_document(text, "x", None),
                 lambda: parse_json(text, "x")):
        with pytest.raises(ManifestError, match="not usable JSON"):
            call()
    snapshot = tmp_path / "n.jsonl"
    snapshot.write_text('{"server": "s", "tool": "t"}\n' + text + "\n")
    with pytest.raises(ManifestError, match="n.jsonl:2: not usable JSON"):
        list(read_snapshot(snapshot))
    for name, body in (("o.json", '{"tools": {"x": {"action": "allow", "per_minute": ' + HUGE_NUMBER + "}}}"),
                       ("o.yaml", "tools:\n  x:\n    action: allow\n    per_minute: " + HUGE_NUMBER + "\n")):
        (tmp_path / name).write_text(body)
        with pytest.raises(OverridesError, match="not usable"):
            Overrides.load(tmp_path / name)
    (tmp_path / "crawl.toml").write_text("[limits]\nmax_pages = " + HUGE_NUMBER + "\n")
    with pytest.raises(crawl_config.ConfigError, match="not usable TOML"):
        crawl_config.load(tmp_path / "crawl.toml")
    with pytest.raises(PolicyFormatError):
        pins('{"x-mcp-risk": {"server": "s", "decisions": {}, "n": ' + HUGE_NUMBER + "}}")


def test_a_nul_in_a_path_is_a_clear_error(tmp_path):
    """TOML spells one as \\u0000; open() and stat() raise ValueError on it, not OSError."""
    toml = tmp_path / "crawl.toml"
    for source in ('kind = "file"\npaths = ["a\\u0000b.json"]', 'kind = "snapshot"\npath = "x\\u0000y"',
                   'kind = "registry"\nurl = "https://x\\u0000y"'):
        toml.write_text("[[sources]]\n" + source + "\n")
        with pytest.raises(crawl_config.ConfigError, match="NUL"):
            crawl_config.load(toml)
    toml.write_text('db = "a\\u0000.db"\n[[sources]]\nkind = "snapshot"\n')
    with pytest.raises(crawl_config.ConfigError, match="db must be"):
        crawl_config.load(toml)
    with pytest.raises(ManifestError, match="cannot read"):
        files.read_file(tmp_path / "a\x00b.json")
    with pytest.raises(ManifestError, match="cannot read"):
        list(read_snapshot(tmp_path / "a\x00b.jsonl"))


def test_huge_strings_are_stored_or_refused_quickly():
    big = "A" * (8 * 1024 * 1024)
    started = time.monotonic()
    tool = normalize_tool({"name": "big", "description": big}, "x")
    assert tool["description"] == big  # descriptions are evidence: kept whole
    manifests, errors = files.parse_document(json.dumps({"tools": [{"name": big, "description": big},
                                                                   {"name": "ok", "description": big}]}), "x", None, "s")
    # a tool is kept whatever its name (the classifier judges it); a server's name must be one
    assert [t["name"] for t in manifests[0].tools] == [big, "ok"] and errors == []
    manifests, errors = registry.parse_page({"servers": [{"name": big}, {"name": "a/b", "title": big,
                                                                         "version": big}]}, WHERE, None)
    assert [m.name for m in manifests] == ["a/b"] and len(manifests[0].title) <= 200
    assert time.monotonic() - started < 20


@pytest.mark.parametrize("line", [
    "- [x](https://github.com/a/b)" + " " * 200_000 + "x",  # a separator is sought in a run of spaces
    "# a" + " " * 200_000 + "b",  # a heading with closing #s
    "# a" + " #" * 100_000 + "b",
    "- [x](https://github.com/a/b) - " + "[" * 200_000,  # links in the description
    "- [x](https://github.com/a/b) - " + "[a](" * 50_000,
    "- [" + "a[" * 100_000,  # the link text
    "- [" + "[a]" * 60_000,
])
def test_awesome_markdown_is_linear(line):
    started = time.monotonic()
    expect(lambda: awesome.parse_list(line + "\n- [ok](https://github.com/o/ok) - fine\n", WHERE), PageError)
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("page", [
    "<ul>" + "<li><a href='https://github.com/a/b'>x</a> - d" * 20_000,  # unclosed items nest in BeautifulSoup
    "<ul>" + "<li>prose <a href='https://github.com/a/b'>x</a></li>" * 20_000,  # no headings to stop a search back
    "<div>" * 50_000 + "<li><a href='https://github.com/a/b'>x</a></li>",
    "<h3>" * 20_000 + "<li><a href='https://github.com/a/b'>x</a></li>",
])
def test_awesome_html_is_linear(page):
    started = time.monotonic()
    expect(lambda: awesome.parse_list(page, WHERE, "text/html"), PageError)
    assert time.monotonic() - started < 10
