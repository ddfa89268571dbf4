"""Real servers over every transport and protocol revision: all tools, every page, who the server is."""

import os
import time

import pytest

from mcp_risk.crawler.live import Limits, probe_servers, spec_from_entry, specs_from_server_json

from .conftest import DATA, TIME_SERVER, capture, needs_time_server, raw_entry, sdk_entry, uvx_shim

LIMITS = Limits(timeout=20)


def spec(name, entry, origin="test"):
    return spec_from_entry(name, entry, origin=origin)


def probe(*specs, limits=LIMITS, **options):
    options.setdefault("cache_dir", False)
    return probe_servers(list(specs), limits, **options)


def test_sdk_server_over_stdio_gives_every_page_of_real_tools():
    [result] = probe(spec("files", sdk_entry("server-filesystem.json", "server-memory.json", page_size=5)))
    assert result.ok, result.error
    expected = capture("server-filesystem.json")["tools"] + capture("server-memory.json")["tools"]
    assert [t["name"] for t in result.tools] == [t["name"] for t in expected]  # 23 tools over 5 pages
    by_name = {t["name"]: t for t in result.tools}
    assert by_name["read_file"]["annotations"] == {"readOnlyHint": True}
    assert by_name["write_file"]["annotations"]["destructiveHint"] is True
    assert by_name["read_file"]["outputSchema"]["required"] == ["content"]
    assert result.transport == "stdio" and result.protocol_version == "2026-07-28"  # stateless: server/discover
    assert result.server_info == {"name": "secure-filesystem-server", "version": "0.2.0"}
    assert result.instructions.startswith("Test server of mcp-risk")
    assert result.manifest().tools == result.tools and result.manifest().meta["protocol_version"] == "2026-07-28"


def test_every_handshake_revision_is_spoken():
    versions = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"]
    results = probe(*(spec(v, raw_entry("versioned", v)) for v in versions))
    for version, result in zip(versions, results):
        assert result.ok, (version, result.error)
        assert result.protocol_version == version
        assert len(result.tools) == 14  # three pages of five
        assert result.instructions == f"raw server speaking {version}"
        assert result.server_info == {"name": "raw-test-server", "version": "1.0.0"}


@needs_time_server
def test_mcp_server_time_from_pypi():
    command = str(TIME_SERVER) if TIME_SERVER.exists() else "mcp-server-time"
    [result] = probe(spec("time", {"command": command, "args": ["--local-timezone", "UTC"]}))
    assert result.ok, result.error
    assert sorted(t["name"] for t in result.tools) == ["convert_time", "get_current_time"]
    assert all(t["annotations"]["readOnlyHint"] for t in result.tools)
    assert result.server_info["name"] == "mcp-time"


def test_streamable_http_with_headers(http_server):
    url, header, value = http_server
    ok, refused = probe(spec("gh", {"url": url, "headers": {header: value}}), spec("gh-no-key", {"url": url}))
    assert ok.ok, ok.error
    assert ok.transport == "streamable-http" and ok.protocol_version == "2026-07-28"
    assert [t["name"] for t in ok.tools] == [t["name"] for t in capture("server-github.json")["tools"]]
    assert not refused.ok and "401" in refused.error and "Streamable HTTP" in refused.error


def test_legacy_sse_is_the_fallback(sse_server):
    auto, sse_only, http_only = probe(spec("docs", {"url": sse_server}),
                                      spec("docs-sse", {"url": sse_server, "type": "sse"}),
                                      spec("docs-http", {"url": sse_server, "type": "http"}))
    assert auto.ok and auto.transport == "sse", auto.error
    assert [t["name"] for t in auto.tools] == ["search_cloudflare_documentation", "migrate_pages_to_workers_guide"]
    assert sse_only.ok and sse_only.transport == "sse"
    assert not http_only.ok and http_only.transport is None


def test_a_refused_connection_is_an_error_not_a_hang():
    started = time.perf_counter()
    [result] = probe(spec("nobody", {"url": "http://127.0.0.1:9/mcp"}), limits=Limits(timeout=10))
    assert not result.ok and "Streamable HTTP" in result.error and "SSE" in result.error
    assert time.perf_counter() - started < 8


def test_servers_are_probed_in_parallel():
    # Six servers that never answer: one after the other that would be six timeouts.
    specs = [spec(f"silent-{i}", raw_entry("silent")) for i in range(6)]
    started = time.perf_counter()
    results = probe(*specs, limits=Limits(timeout=1.5), concurrency=8)
    elapsed = time.perf_counter() - started
    assert all("no answer within 1.5 s" in r.error for r in results)
    assert elapsed < 1.5 * 3, elapsed


def test_concurrency_is_bounded():
    specs = [spec(f"silent-{i}", raw_entry("silent")) for i in range(3)]
    started = time.perf_counter()
    probe(*specs, limits=Limits(timeout=0.6), concurrency=1)
    assert time.perf_counter() - started >= 0.6 * 3


def registry_doc(identifier, version):
    return {"name": "io.github.domdomegg/time-mcp-pypi", "packages": [
        {"registryType": "pypi", "identifier": identifier, "version": version, "transport": {"type": "stdio"}}]}



def test_registry_servers_never_run_without_allow_exec(shim_bin, tmp_path):
    log = tmp_path / "uvx.log"
    uvx_shim(shim_bin, log)
    [registry_spec] = specs_from_server_json(registry_doc("time-mcp-pypi", "1.0.6"), "doc")
    [result] = probe(registry_spec)
    assert not result.ok and "--allow-exec" in result.error and "uvx time-mcp-pypi==1.0.6" in result.error
    assert not log.exists()  # nothing was started


@needs_time_server
def test_registry_servers_run_with_allow_exec(shim_bin, tmp_path):
    log = tmp_path / "uvx.log"
    uvx_shim(shim_bin, log)
    [registry_spec] = specs_from_server_json(registry_doc("time-mcp-pypi", "1.0.6"), "doc")
    [result] = probe(registry_spec, allow_exec=True)
    assert result.ok, result.error
    assert log.read_text().split() == ["time-mcp-pypi==1.0.6"]
    assert {t["name"] for t in result.tools} == {"get_current_time", "convert_time"}


def test_a_config_problem_is_reported_without_starting_anything():
    bad = spec_from_entry("bad", {"args": ["x"]}, origin="cfg.json")
    [result] = probe(bad)
    assert not result.ok and 'neither "command"' in result.error and result.seconds == 0


def test_data_files_are_real_captures():
    # The test servers serve these: real tools/list captures, not shapes we made up.
    assert os.path.getsize(DATA / "server-github.json") > 20_000
    assert capture("server-filesystem.json")["server_info"]["name"] == "secure-filesystem-server"


@pytest.mark.parametrize("entry, says", [
    ({"command": "/no/such/server"}, "command not found: /no/such/server"),
    ({"command": str(DATA / "server-github.json")}, "permission denied"),
])
def test_a_server_that_cannot_start(entry, says):
    [result] = probe(spec("x", entry))
    assert not result.ok and says in result.error
