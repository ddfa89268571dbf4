"""Policies per server: the taxonomy's defaults, a reason per decision, safe files for every server."""

import json

from mcp_risk.policies.export import policylayer_policy, safe_filename
from conftest import run


def test_the_filesystem_server_policy(sliced_db, tmp_path):
    out = tmp_path / "fs.json"
    result = run("policy", "modelcontextprotocol/server-filesystem", "-o", out, "--db", sliced_db)
    assert result.exit_code == 0, result.output
    policy = json.loads(out.read_text())
    pins = json.loads((tmp_path / "fs.mcp-risk.json").read_text())
    assert policy["version"] == "1" and policy["default"] == "deny"
    # reads are allowed without limits
    assert policy["tools"]["read_text_file"] == {}
    assert policy["tools"]["list_directory"] == {}
    # write_file replaces a file's content with no history: destructive, so hidden and denied
    assert "write_file" in policy["hide"] and "write_file" not in policy["tools"]
    # a partial edit is a write: allowed; its limit of 30 a minute has no documented place in policy.json
    assert policy["tools"]["edit_file"] == {}
    assert set(policy) == {"version", "default", "hide", "tools"}  # only documented keys
    decisions = pins["decisions"]
    assert decisions["edit_file"]["per_minute"] == 30 and "edit_file" in pins["not_expressed"]["rate_limited_tools"]
    assert set(decisions) == set(policy["tools"]) | set(policy["hide"])
    reason = decisions["write_file"]["reason"]
    assert reason.startswith("destructive, critical risk") and "overwrite" in reason and "hidden" in reason
    assert len(decisions["write_file"]["hash"]) == 64


def test_every_category_gets_the_taxonomy_default():
    tools = [
        {"tool": t, "category": c, "risk": r, "flags": f, "evidence": [f"because {t}"], "hash": "h", "confidence": 0.9}
        for t, c, r, f in [
            ("get", "read", "low", []), ("post", "write", "medium", []), ("run", "execute", "high", []),
            ("drop", "destructive", "critical", []), ("pay", "financial", "critical", []),
            ("sneaky_read", "read", "low", ["suspicious_instructions"]),
        ]
    ]
    policy, pins = policylayer_policy("demo", tools)
    assert policy["tools"]["get"] == policy["tools"]["post"] == policy["tools"]["run"] == {}
    assert pins["decisions"]["post"]["per_minute"] == 30 and pins["decisions"]["run"]["per_minute"] == 10
    assert sorted(policy["hide"]) == ["drop", "sneaky_read"]
    assert "pay" not in policy["tools"] and "pay" not in policy["hide"]  # denied by default: deny
    decisions = pins["decisions"]
    # financial: only with a human's approval of each call; policy.json cannot ask, so it denies
    assert decisions["pay"]["action"] == "ask" and "approval of each call" in decisions["pay"]["reason"]
    assert "approval recommended" in decisions["run"]["reason"]
    assert "because run" in decisions["run"]["reason"]
    assert decisions["sneaky_read"]["action"] == "hide"


def test_policy_to_a_file(sliced_db, tmp_path):
    out = tmp_path / "fs.json"
    result = run("policy", "github/github-mcp-server", "-o", out, "--db", sliced_db)
    assert result.exit_code == 0
    policy = json.loads(out.read_text())
    assert "delete_file" in policy["hide"]
    assert policy["tools"]["get_me"] == {}


def test_export_writes_one_parseable_policy_per_server(sliced_db, tmp_path):
    out = tmp_path / "policies"
    result = run("export-policies", out, "--db", sliced_db)
    assert result.exit_code == 0, result.output
    index = json.loads((out / "_index.json").read_text())
    files = sorted(p.name for p in out.iterdir() if p.name != "_index.json" and not p.name.endswith(".mcp-risk.json"))
    assert sorted(entry["file"] for entry in index) == files
    import sqlite3

    servers = sqlite3.connect(sliced_db).execute("SELECT count(*) FROM servers").fetchone()[0]
    assert len(files) == servers
    for entry in index:
        pins = json.loads((out / entry["file"].replace(".json", ".mcp-risk.json")).read_text())
        assert pins["server"] == entry["server"]


def test_export_of_all_formats_gives_each_its_folder(sliced_db, tmp_path):
    out = tmp_path / "policies"
    result = run("export-policies", out, "--format", "all", "--db", sliced_db)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["cedar", "claude", "intercept", "policylayer"]
    one = tmp_path / "one"
    assert run("export-policies", one, "--format", "intercept", "--db", sliced_db).exit_code == 0
    assert sorted(p.name for p in (out / "intercept").iterdir()) == sorted(p.name for p in one.iterdir())
    for fmt in ("policylayer", "intercept", "claude", "cedar"):
        index = json.loads((out / fmt / "_index.json").read_text())
        assert all((out / fmt / entry["file"]).is_file() for entry in index)
        assert f"policies to {out / fmt} (" in result.output


HOSTILE_NAMES = [
    "../../etc/passwd", "/absolute/name", "GitHub", "github", "con", "a" * 500, "名前/サーバー", "..", ".hidden",
    "server\nwith newline", "we$ird;name`rm -rf`", "_index", "",
]


def test_safe_file_names_stay_inside_and_never_collide():
    names = [safe_filename(n) for n in HOSTILE_NAMES]
    assert len(set(names)) == len(names)
    for name in names:
        assert "/" not in name and "\\" not in name and not name.startswith(".")
        assert len(name) <= 100 and name.endswith(".json") and name != "_index.json"
    assert safe_filename("github") == "github.json"


def test_export_of_hostile_server_names(tmp_path):
    rows = [{"server": n, "tool": "delete_everything", "description": "Delete everything"} for n in HOSTILE_NAMES if n]
    source = tmp_path / "hostile.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    db = tmp_path / "c.db"
    assert run("crawl", "snapshot", source, "--db", db).exit_code == 0
    out = tmp_path / "out"
    assert run("export-policies", out, "--db", db).exit_code == 0
    written = list(out.iterdir())
    assert len(written) == 2 * len(rows) + 1  # a policy and its sidecar each, + _index.json
    assert all(p.parent == out for p in written)
    assert not (tmp_path / "etc").exists()
    for entry in json.loads((out / "_index.json").read_text()):
        assert json.loads((out / entry["file"]).read_text())["hide"] == ["delete_everything"]


def test_the_cli_offers_every_format_the_renderers_know():
    # The CLI keeps its own list so that `--help` need not import the renderers.
    from mcp_risk.cli.policy import FORMATS as OFFERED
    from mcp_risk.policies.formats import FORMATS as RENDERED

    assert OFFERED == RENDERED
