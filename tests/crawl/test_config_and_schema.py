"""`mcp-risk crawl --config crawl.toml` for scheduled jobs, and catalogues of the previous schema."""

import shutil
from pathlib import Path

from mcp_risk.catalogue.db import SCHEMA_VERSION, open_catalogue

from .conftest import fingerprint, query, run
from .loopback import REFERENCE, Glama, Loopback, Registry, glama_servers

# Written by mcp-risk 0.1.0 (schema 1): two servers, three tools, from the snapshot source.
V1_CATALOGUE = Path(__file__).resolve().parent / "fixtures" / "catalogue_v1.sqlite"


def test_a_config_crawls_every_source_in_order(tmp_path):
    registry, glama = Registry(120), Glama(glama_servers(4))
    with Loopback(registry) as reg, Loopback(glama) as gl:
        config = tmp_path / "crawl.toml"
        config.write_text(f'''
db = "data/catalogue.db"

[http]
rate_per_minute = 0
timeout = 5

[[sources]]
kind = "registry"
url = "{reg.url}"
name = "official"

[[sources]]
kind = "glama"
url = "{gl.url}"

[[sources]]
kind = "smithery"

[[sources]]
kind = "file"
paths = ["{REFERENCE / 'tools_list_snapshots' / 'server-memory.json'}"]
server = "memory"
''')
        (tmp_path / "data").mkdir()
        code, out, err = run("crawl", "--config", config, env={"SMITHERY_API_KEY": ""})
    assert code == 0, (out, err)
    db = tmp_path / "data" / "catalogue.db"  # relative to the config file
    lines = out.splitlines()
    assert lines[0].startswith("official: ok") and lines[1].startswith(f"glama:{gl.url[7:]}: ok")
    assert "smithery: skipped" in err
    runs = query(db, "SELECT so.name, r.status, r.message FROM crawl_runs r JOIN sources so ON so.id = r.source_id "
                     "ORDER BY r.id")
    assert [(name, status) for name, status, _ in runs] == [
        ("official", "ok"), (f"glama:{gl.url[7:]}", "ok"), ("smithery", "skipped"), ("file", "ok")]
    assert "SMITHERY_API_KEY" in runs[2][2]  # the skipped run says why
    assert query(db, "SELECT count(*) FROM servers")[0][0] == 120 + 4 + 1
    assert (tmp_path / "data" / "catalogue.http-cache.db").exists()  # the HTTP cache lives beside it


def test_config_mistakes_are_one_line_errors(tmp_path):
    config = tmp_path / "crawl.toml"
    for text, message in [
        ("[[sources]]\nkind = \"gopher\"\n", "sources[0]: kind must be one of registry, docker"),
        ("[[sources]]\nkind = \"registry\"\nurll = \"x\"\n", "unknown key 'urll' for a registry source"),
        ("[http]\nrate_per_minute = \"fast\"\n[[sources]]\nkind = \"docker\"\n", "rate_per_minute must be a number"),
        ("[[sources]]\nkind = \"file\"\n", "a file source needs `paths`"),
        ("db = \n", "not valid TOML"),
        ("", "no [[sources]]"),
    ]:
        config.write_text(text)
        code, out, err = run("crawl", "--config", config, "--db", tmp_path / "c.db")
        assert code == 1, (text, out, err)
        assert err.startswith("Error: ") and message in err, (text, err)
        assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "c.db").exists()
    code, _, err = run("crawl", "registry", "--config", config)
    assert code == 2


def test_a_catalogue_of_schema_1_upgrades_in_place_and_keeps_everything(tmp_path):
    db = tmp_path / "old.db"
    shutil.copy(V1_CATALOGUE, db)
    assert query(db, "PRAGMA user_version") == [(1,)]
    old_tools = query(db, "SELECT id, name, hash, status FROM tools ORDER BY id")

    open_catalogue(db).conn.close()
    open_catalogue(db).conn.close()  # idempotent
    assert query(db, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    assert query(db, "SELECT id, name, hash, status FROM tools ORDER BY id") == old_tools
    # 5 -> 6: each tool's confidence beside its category, indexed for surest-first listings
    assert query(db, "SELECT count(*) FROM tools WHERE confidence IS NULL") == [(0,)]
    assert query(db, "SELECT count(*) FROM tools t JOIN classifications c ON c.id = t.classification_id "
                     "WHERE t.confidence = c.confidence") == [(len(old_tools),)]
    assert "idx_tools_category_confidence" in {name for (_, name, *_) in query(db, "PRAGMA index_list(tools)")}
    assert query(db, "SELECT name, status, source_id FROM servers ORDER BY name") == [
        ("example/files", "active", 1), ("example/other", "active", 1)]
    assert query(db, "SELECT source_name FROM server_sources ORDER BY source_name") == [
        ("example/files",), ("example/other",)]

    # the upgraded catalogue crawls on: the same snapshot source recognises its servers
    jsonl = tmp_path / "again.jsonl"
    jsonl.write_text('{"server": "example/other", "name": "read_file", "description": "Read a file", '
                     '"inputSchema": {"type": "object"}}\n')
    definitions = "SELECT id, server_id, name, title, description, input_schema, hash, status, first_seen FROM tools"
    before = fingerprint(db, ("servers", "tool_history")), query(db, definitions)
    code, out, err = run("crawl", "snapshot", jsonl, "--db", db)
    assert code == 0, err
    assert "0 added, 0 changed, 0 removed" in out
    assert (fingerprint(db, ("servers", "tool_history")), query(db, definitions)) == before
    # the new classifier classified the kept definition, and the tool points at that classification
    from mcp_risk import classifier

    assert query(db, "SELECT t.category, c.classifier_version FROM tools t JOIN classifications c "
                     "ON c.id = t.classification_id JOIN servers s ON s.id = t.server_id "
                     "WHERE t.name = 'read_file' AND s.name = 'example/other'") == [("read", classifier.current_version())]
