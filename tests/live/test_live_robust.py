"""Real servers that break the SDK: tools it rejects (siblings kept, each rejected one named), and
servers that wait for a person to log in (reported as such, not as a timeout)."""

import time

import pytest

from mcp_risk.crawler.live import Limits, probe_servers, spec_from_entry

from .conftest import _start_http, _stop, capture, DATA, raw_entry


def probe(name, entry, timeout=10):
    [result] = probe_servers([spec_from_entry(name, entry, origin="test")], Limits(timeout=timeout), cache_dir=False)
    return result


def test_tools_the_sdk_rejects_are_named_and_their_siblings_kept():
    result = probe("bad", raw_entry("bad_tools"))
    assert result.ok, result.error
    names = [tool["name"] for tool in capture("server-memory.json")["tools"]]
    kept = [names[i] for i in range(9) if i not in (1, 3, 6)]
    assert [tool["name"] for tool in result.tools] == kept  # both pages, in order
    dropped = [w for w in result.warnings if w.startswith("dropped a tool")]
    assert len(dropped) == 3, result.warnings
    assert "tools[1] 'create_relations'" in dropped[0] and "inputSchema" in dropped[0]
    assert "tools[3] 'delete_entities'" in dropped[1] and "inputSchema" in dropped[1]
    assert "tools[6] 'read_graph'" in dropped[2] and "readOnlyHint" in dropped[2]
    by_name = {tool["name"]: tool for tool in result.tools}
    assert by_name["create_entities"]["inputSchema"]["required"] == ["entities"]
    assert result.manifest().meta["warnings"] == result.warnings  # recorded with the server


def test_a_device_code_prompt_is_a_login_not_a_timeout():
    started = time.perf_counter()
    result = probe("azure", raw_entry("device_login"), timeout=3)
    assert not result.ok
    assert result.error.startswith("needs an interactive login"), result.error
    assert "https://microsoft.com/devicelogin" in result.error
    assert time.perf_counter() - started < 8


def test_an_oauth_url_for_a_browser_is_a_login():
    result = probe("gdrive", raw_entry("browser_login"))
    assert not result.ok
    assert result.error.startswith("needs an interactive login"), result.error
    assert "accounts.google.com/o/oauth2" in result.error


def test_a_silent_server_is_still_a_timeout():
    result = probe("silent", raw_entry("silent"), timeout=2)
    assert result.error.startswith("no answer within 2 s"), result.error


@pytest.fixture(scope="module")
def oauth_server():
    process, port = _start_http("--transport", "http", "--tools", str(DATA / "server-github.json"), "--require-oauth")
    yield f"http://127.0.0.1:{port}/mcp"
    _stop(process)


def test_a_remote_asking_for_oauth_is_a_login(oauth_server):
    for entry in ({"url": oauth_server}, {"url": oauth_server, "type": "http"}, {"url": oauth_server, "type": "sse"}):
        result = probe("remote", entry)
        assert not result.ok
        assert result.error.startswith("needs an interactive login (OAuth"), (entry, result.error)
        assert "resource_metadata=" in result.error and "/.well-known/oauth-protected-resource" in result.error


def test_a_node_crash_is_told_by_its_error_line_not_its_version_line():
    result = probe("crash", raw_entry("node_crash"))
    assert "exited with status 1" in result.error, result.error
    assert "(stderr: RangeError: WebAssembly.instantiate(): Out of memory" in result.error, result.error
