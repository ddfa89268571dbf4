"""The catalogue in Datasette: titles and descriptions, facets by category and risk, canned queries."""

from pathlib import Path

from ..classifier.taxonomy import FLAGS

TEMPLATES = Path(__file__).with_name("templates")

RISK_ORDER = "CASE risk WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 WHEN 'low' THEN 3 ELSE 4 END"

CANNED_QUERIES = {
    "critical_tools_per_server": {
        "title": "Critical tools per server",
        "description": "Servers by how many destructive or financial tools they expose, with the tools named.",
        "sql": (
            "SELECT server, count(*) AS critical_tools, "
            "sum(category = 'destructive') AS destructive, sum(category = 'financial') AS financial, "
            "group_concat(tool, ', ') AS tools "
            "FROM tool_catalogue WHERE status = 'listed' AND risk = 'critical' "
            "GROUP BY server ORDER BY critical_tools DESC, server LIMIT 1000"
        ),
    },
    "servers_by_risk": {
        "title": "Servers by risk",
        "description": (
            "Every server (no cap) with its listed tools counted by risk, the riskiest first. Columns: "
            "tools, how many it lists; critical, destructive or financial tools (lose data or move money); "
            "high, execute tools (run code, commands or queries); medium, write tools (changes another call "
            "can undo); low, read tools; mean_risk, the average over its tools with low 0, medium 1, high 2, "
            "critical 3."
        ),
        "sql": (
            "SELECT server, count(*) AS tools, sum(risk = 'critical') AS critical, sum(risk = 'high') AS high, "
            "sum(risk = 'medium') AS medium, sum(risk = 'low') AS low, "
            "round(avg(CASE risk WHEN 'critical' THEN 3 WHEN 'high' THEN 2 WHEN 'medium' THEN 1 ELSE 0 END), 2) "
            "AS mean_risk FROM tool_catalogue WHERE status = 'listed' GROUP BY server "
            "ORDER BY critical DESC, high DESC, tools DESC, server"
        ),
    },
    "recently_changed_tools": {
        "title": "Recently changed tools",
        "description": "Tools added, changed or removed by the latest crawls, newest first, with today's risk. "
                       "A changed description is how a trusted tool turns malicious.",
        "sql": (
            "SELECT h.seen_at, h.change, s.name AS server, t.name AS tool, c.category, c.risk, t.description "
            "FROM tool_history h JOIN tools t ON t.id = h.tool_id JOIN servers s ON s.id = t.server_id "
            "LEFT JOIN classifications c ON c.id = t.classification_id "
            "WHERE h.change != 'added' OR h.seen_at > (SELECT min(seen_at) FROM tool_history) "
            "ORDER BY h.id DESC LIMIT 500"
        ),
    },
    "servers_with_a_toxic_flow": {
        "title": "Servers with a toxic flow",
        "description": "Servers where one tool takes in untrusted content, one reads private data and one sends "
                       "data out: planted text can send the user's data away. Each flow names its three tools.",
        "sql": ("SELECT name AS server, grade, toxic_flows, grade_flows AS flows FROM servers "
                "WHERE toxic_flows > 0 ORDER BY toxic_flows DESC, name LIMIT 1000"),
    },
    "grade_f_servers": {
        "title": "Grade F servers",
        "description": "Servers graded F: a tool with hidden instructions, or a toxic flow inside; the reasons "
                       "name the tools.",
        "sql": "SELECT name AS server, grade_reasons AS reasons, toxic_flows FROM servers WHERE grade = 'F' ORDER BY name",
    },
    "tools_of_a_server": {
        "title": "Tools of a server",
        "description": "One server's tools, riskiest first.",
        "sql": (
            "SELECT tool, category, risk, confidence, flags, description FROM tool_catalogue "
            f"WHERE server = :server AND status = 'listed' ORDER BY {RISK_ORDER}, tool"
        ),
    },
}


# What Datasette's home page leads with, in this order: the view people browse, then the canned
# queries (each a name in CANNED_QUERIES). Another view or query is one more entry here.
HOME_VIEWS = {
    "tools_by_risk": {
        "title": "Tools by risk",
        "description": "Every listed tool with its server, category, risk, flags, confidence and top evidence, "
                       "riskiest and surest first. Search it, facet it by category, risk, flag or server.",
        "facets": ["category", "risk", {"array": "flags"}],
        "fts_table": "tools_fts",
        "fts_pk": "tool_id",
        "columns": {
            "category": "What a call can do, the most severe that applies (docs/taxonomy.md)",
            "risk": "low (read), medium (write), high (execute), critical (destructive, financial)",
            "flags": ", ".join(FLAGS),
            "confidence": "How sure the classifier is (0-1, calibrated)",
            "top_evidence": "The strongest reason for the category (all of it: tool_catalogue.evidence)",
        },
    },
}


def metadata(database_name):
    """Datasette metadata for a catalogue served under `database_name`."""
    return {
        "title": "mcp-risk catalogue",
        "description": (
            "The tools MCP servers expose to AI agents, each classified by what a call can do "
            "(read, write, execute, destructive, financial), with its risk, flags, confidence and evidence."
        ),
        "source": "mcp-risk",
        "home_views": list(HOME_VIEWS),  # read by templates/index.html
        "databases": {
            database_name: {
                "description": "Servers, their tools, every definition seen, and their classifications.",
                "tables": {
                    **HOME_VIEWS,
                    "tool_catalogue": {
                        "title": "Tools with their classification",
                        "description": "Every tool with its current classification. Facet by category and risk.",
                        "facets": ["category", "risk", "status"],
                        "sort_desc": "confidence",
                        "fts_table": "tools_fts",
                        "fts_pk": "tool_id",
                        "columns": {
                            "category": "What a call can do, the most severe that applies",
                            "risk": "low (read), medium (write), high (execute), critical (destructive, financial)",
                            "confidence": "How sure the classifier is (0-1, calibrated)",
                            "flags": HOME_VIEWS["tools_by_risk"]["columns"]["flags"],
                            "evidence": "Why: the rules that fired and the model's probability",
                            "hash": "SHA-256 of the tool's definition: a policy pins it",
                            "last_seen": "When a crawl last saw the tool",
                        },
                    },
                    "servers": {"title": "Servers", "description": "One row per server, by canonical name, with its "
                                "grade: A (only reads) to F (hidden instructions or a toxic flow). Facet by grade.",
                                "facets": ["grade"]},
                    # The raw definitions (input_schema first): searched through tools_by_risk instead.
                    "tools": {"title": "Tool definitions", "description": "The current definition of every tool "
                              "ever seen. To search tools by risk, use tools_by_risk.",
                              "facets": ["status"], "hidden": True},
                    "tool_history": {"title": "Tool history",
                                     "description": "A row whenever a tool is added, changes or disappears.",
                                     "facets": ["change"]},
                    "classifications": {"title": "Classifications",
                                        "description": "One per tool definition and classifier version.",
                                        "facets": ["category", "risk", "classifier_version"]},
                    "crawl_runs": {"title": "Crawl runs", "description": "Every crawl: when, what, counts, errors.",
                                   "facets": ["status"]},
                    "sources": {"title": "Sources", "description": "Where manifests come from."},
                },
                "queries": CANNED_QUERIES,
            }
        },
    }


class _BadSortIsA400:
    """Datasette answers `?_sort=nosuch` with an HTTP 500 "Cannot sort table by nosuch": the request is
    wrong, not the server, so it becomes a 400 (same page, same message)."""

    @staticmethod
    def handle_exception(datasette, request, exception):
        from datasette.views.base import DatasetteError

        if isinstance(exception, DatasetteError) and str(exception.message).startswith("Cannot sort table by "):
            exception.status = 400
        return None  # Datasette's own handler renders it


def datasette_app(db_path):
    """A Datasette ASGI app over the catalogue (read-only: Datasette never writes a table)."""
    from datasette import hookimpl
    from datasette.app import Datasette
    from datasette.plugins import pm

    if not pm.has_plugin("mcp_risk_bad_sort"):
        hookimpl(_BadSortIsA400.handle_exception)
        pm.register(_BadSortIsA400, name="mcp_risk_bad_sort")
    db_path = Path(db_path)
    # max_returned_rows: a canned query shows all its rows (servers_by_risk lists every server).
    # suggest_facets off: trying every column as a facet took 1.0 of tools_by_risk's 1.1 s on the
    # snapshot, and the useful facets (category, risk) are configured.
    return Datasette([str(db_path)], metadata=metadata(db_path.stem), template_dir=str(TEMPLATES),
                     settings={"default_page_size": 50, "max_returned_rows": 100_000, "suggest_facets": False})


def serve(db_path, host="127.0.0.1", port=8001):
    import uvicorn

    uvicorn.run(datasette_app(db_path).app(), host=host, port=port, log_level="warning")
