"""Identity keys: how one server is recognised across sources (and look-alikes are not)."""

import pytest

from mcp_risk.crawler.identity import check_name, identity_keys, package_key, repository_key


@pytest.mark.parametrize("url, subfolder, key", [
    ("https://github.com/domdomegg/airtable-mcp-server.git", None, "github.com/domdomegg/airtable-mcp-server"),
    ("https://github.com/DomDomEgg/Airtable-MCP-Server/", None, "github.com/domdomegg/airtable-mcp-server"),
    ("git@github.com:domdomegg/airtable-mcp-server.git", None, "github.com/domdomegg/airtable-mcp-server"),
    ("https://www.github.com/modelcontextprotocol/servers/tree/main/src/filesystem", None,
     "github.com/modelcontextprotocol/servers/src/filesystem"),
    ("https://github.com/modelcontextprotocol/servers", "src/everything", "github.com/modelcontextprotocol/servers/src/everything"),
    ("https://gitlab.com/group/project/-/tree/main/server", None, "gitlab.com/group/project/server"),
    ("https://github.com/only-owner", None, None),
    ("not a url at all", None, None),
    (None, None, None),
])
def test_repository_keys(url, subfolder, key):
    assert repository_key(url, subfolder) == key


@pytest.mark.parametrize("kind, identifier, key", [
    ("npm", "@modelcontextprotocol/server-filesystem", "npm:@modelcontextprotocol/server-filesystem"),
    ("npm", "airtable-mcp-server@1.7.2", "npm:airtable-mcp-server"),
    ("pypi", "Time_MCP.pypi", "pypi:time-mcp-pypi"),
    ("oci", "docker.io/domdomegg/airtable-mcp-server:1.7.2", "oci:docker.io/domdomegg/airtable-mcp-server"),
    ("oci", "mcp/sqlite", "oci:docker.io/mcp/sqlite"),
    ("oci", "ghcr.io/stacklok/dockyard/uvx/adb-mysql-mcp-server:1.0.0@sha256:abc",
     "oci:ghcr.io/stacklok/dockyard/uvx/adb-mysql-mcp-server"),
    ("oci", "localhost:5000/img:tag", "oci:localhost:5000/img"),
    ("mcpb", "https://github.com/x/y/releases/download/v1/y.mcpb", None),  # versioned URLs identify nothing
    ("npm", 42, None),
])
def test_package_keys(kind, identifier, key):
    assert package_key(kind, identifier) == key


def test_keys_strongest_first_without_duplicates():
    meta = {"registry_name": "io.github.x/y", "repository": "https://github.com/x/y",
            "packages": [{"registryType": "npm", "identifier": "y"}, {"registryType": "npm", "identifier": "y"}]}
    assert identity_keys(meta) == [("registry", "io.github.x/y"), ("package", "npm:y"),
                                   ("repository", "github.com/x/y")]
    assert identity_keys("not a dict") == []


def test_names_with_invisible_characters_are_refused_and_look_alikes_stay_apart():
    assert check_name("github\u200b")[0] is None
    assert check_name("git\x00hub")[0] is None
    assert check_name("  spaced  ")[0] == "spaced"
    confusable, _ = check_name("g\u0456thub")  # Cyrillic і
    assert confusable == "g\u0456thub" and confusable != "github"
    # compared exactly, a look-alike owner never merges with the real one
    assert repository_key("https://github.com/g\u0456thub/x") != repository_key("https://github.com/github/x")
