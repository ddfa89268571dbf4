"""The rules on real definitions of live-listed servers (data/labels/live_labelled.jsonl) and the
reference tools/list captures: each case misfired before the rule it pins was written or mended.

The rules are read as `classify` reads them (with the server's other tools as context) but
without the model, so what is pinned here is the rules' own verdict and evidence."""

import json
from functools import lru_cache
from pathlib import Path

import pytest

from mcp_risk import classifier
from mcp_risk.classifier.analysis import analyse

# Read with the bundled model's learned lexicon, as `classify` reads (loading it loads the lexicon).
classifier.current_version()

ROOT = Path(__file__).resolve().parents[1]
LIVE = ROOT / "data" / "labels" / "live_labelled.jsonl"
CAPTURES = Path(__file__).resolve().parent / "fixtures" / "reference" / "tools_list_snapshots"


@lru_cache(maxsize=None)
def _live():
    rows = [json.loads(line) for line in LIVE.read_text(encoding="utf-8").splitlines()]
    servers = {}
    for row in rows:
        servers.setdefault(row["server"], []).append(row["definition"])
    return {(row["server"], row["tool"]): row["definition"] for row in rows}, servers


def rules_on(server, tool):
    definitions, servers = _live()
    return analyse(definitions[server, tool], {"tools": servers[server]})


def texts(analysis):
    return " | ".join(e.text for e in analysis.found)


@pytest.mark.parametrize("server, tool, category, evidence", [
    # The overwrite rule: a tool with "write" in its name is mostly a multi-action writer, not a
    # file overwrite; a backup keeps what it replaces.
    ("selenium-ai-agent", "generator_write_test", "write", "name verb `write`"),
    ("selenium-ai-agent", "healer_fix_test", "write", "what it replaces is kept"),
    # A reversible setting that a call replaces is not lost data.
    ("@azure/mcp", "postgres_server_param_set", "write", "name verb `set`"),
    # An enum is a list of actions only when its values are verbs.
    ("@azure/mcp", "monitor_webtests_createorupdate", "write", "description lists the action `create`"),
    # Setting code in motion is execute: builds, redeploys, re-runs, applies, scheduled commands.
    ("awslabs.aws-serverless-mcp-server", "sam_build", "execute", "builds a project"),
    ("@ahdev/dokploy-mcp", "application-redeploy", "execute", "name verb `redeploy` → execute"),
    ("@mistertk/vercel-mcp", "rerequestCheck", "execute", "name verb `rerequest` → execute"),
    ("awslabs.eks-mcp-server", "apply_yaml", "execute", "`apply` of migrations or infrastructure code"),
    ("hostinger-api-mcp", "agency-hosting_createWebsiteCronJobV1", "execute", "a command in `command`"),
    # Browser and device interactions run the page.
    ("selenium-ai-agent", "mouse_move", "execute", "in a browser"),
    ("selenium-ai-agent", "dialog_handle", "execute", "in a browser"),
    ("@mobilenext/mobile-mcp", "mobile_open_url", "execute", "in a browser"),
    ("selenium-ai-agent", "scroll_page", "read", "name verb `scroll` → read"),
    ("selenium-ai-agent", "wait_for", "read", "name verb `wait` → read"),
    # Committing someone to spend: paid resources, invoices, checkouts, upgrades, renewals, billing.
    ("@azure/mcp", "compute_vm_create", "financial", "provisions a paid resource"),
    ("@azure/mcp", "sql_db_update", "financial", "provisions a paid resource"),
    ("creem", "checkouts-create", "financial", "`create` + `checkouts`"),
    ("creem", "subscriptions-upgrade", "financial", "`upgrade` + `subscriptions`"),
    ("quickbooks-mcp", "edit_invoice", "financial", "`edit` + `invoice`"),
    ("hostinger-api-mcp", "billing_renewSubscriptionV1", "financial", "`renew` + `subscription`"),
    ("@google-cloud/cloud-run-mcp", "create_project", "financial", "billed to an account"),
    ("creem", "customer-credits-debit-account", "financial", "name verb `debit` → financial"),
    # Bookkeeping is write; what the definition says is free commits no spend.
    ("@akutishevsky/lunchmoney-mcp", "create_transactions", "write", "bookkeeping moves no money"),
    ("quickbooks-mcp", "create_journal_entry", "write", "bookkeeping moves no money"),
    ("quickbooks-mcp", "create_expense", "write", "bookkeeping moves no money"),
    ("hostinger-api-mcp", "domains_claimFreeDomainTransferV1", "write", "says it is free"),
    # A description that says what is lost, or lists a deletion among its actions.
    ("@mobilenext/mobile-mcp", "mobile_release_remote_device", "destructive", "is destructive"),
    ("hostinger-api-mcp", "reach_updateAContactFieldV1", "destructive", "deleted along with"),
    ("@azure/mcp", "appservice_webapp_settings_update-appsettings", "destructive", "the action `delete:`"),
    # Overwriting a secret loses the old one.
    ("hostinger-api-mcp", "hosting_changeDatabasePasswordV1", "destructive", "`change` of a `password`"),
    # Reading: read-only query languages, model outputs, instructions, SQL converted not run.
    ("awslabs.cloudwatch-mcp-server", "execute_promql_query", "read", "a read-only query language"),
    ("@azure/mcp", "foundryextensions_openai_chat-completions-create", "read", "model's `completions`"),
    ("@azure/mcp", "extension_cli_install", "read", "gives instructions"),
    ("@supabase/mcp-server-postgrest", "sqlToRest", "read", "SQL given as text: it is not run"),
    ("@executeautomation/playwright-mcp-server", "playwright_console_logs", "read", "description opens with `retrieve`"),
    # Removing a member is undone by adding them back.
    ("@mistertk/vercel-mcp", "removeProjectMember", "write", "`remove` of a member"),
])
def test_rules_on_live_definitions(server, tool, category, evidence):
    analysis = rules_on(server, tool)
    assert analysis.rule_category == category, texts(analysis)
    assert evidence in texts(analysis)


def test_a_file_overwrite_is_still_destructive():
    capture = json.loads((CAPTURES / "server-filesystem.json").read_text(encoding="utf-8"))
    write_file = next(t for t in capture["tools"] if t["name"] == "write_file")
    analysis = analyse(write_file, {"tools": capture["tools"]})
    assert analysis.rule_category == "destructive"
    assert "old content is lost" in texts(analysis)


def test_http_methods_of_a_configured_monitor_are_not_requests():
    """`monitor_webtests_createorupdate` takes an `httpVerb` the web test will use; the tool itself
    sends no arbitrary request. A tool that does (`postgrestRequest`) is told apart."""
    assert "arbitrary requests" not in texts(rules_on("@azure/mcp", "monitor_webtests_createorupdate"))
    assert "`method` takes HTTP methods" in texts(rules_on("@supabase/mcp-server-postgrest", "postgrestRequest"))


# -- evidence that is true: nouns are not verbs, field names are not actions ----------------------
@lru_cache(maxsize=None)
def _snapshot():
    import gzip

    from mcp_risk.crawler.sources.snapshot import default_path

    with gzip.open(default_path(), "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def snapshot_tool(server, tool):
    row = next(r for r in _snapshot() if r["server"] == server and r["tool"] == tool)
    return {"name": row["tool"], "description": row["description"], "inputSchema": row.get("input_schema")}


@pytest.mark.parametrize("server, tool, false_claim", [
    # `issue` is the object of an unlisted verb (reprioritize), not the tool's action
    ("github/github-mcp-server", "reprioritize_sub_issue", "name verb `issue`"),
    # a payment link is a thing: `link` is no second action
    ("stripe/agent-toolkit", "create_payment_link", "verb `link`"),
    # a `method` enum of field names lists no actions
    ("github/github-mcp-server", "ui_get", "enum includes"),
])
def test_evidence_names_only_what_fired(server, tool, false_claim):
    result = classifier.classify(snapshot_tool(server, tool))
    assert not any(false_claim in e for e in result.evidence), result.evidence


def test_an_unlisted_verb_is_an_action_not_a_safe_read():
    result = classifier.classify(snapshot_tool("github/github-mcp-server", "reprioritize_sub_issue"))
    assert result.category == "write"
    assert any("`reprioritize`, an action no list names" in e for e in result.evidence)


def test_a_payment_link_commits_its_payer():
    result = classifier.classify(snapshot_tool("stripe/agent-toolkit", "create_payment_link"))
    assert result.category == "financial"
    assert "name `create` + `payment`: moves or commits money" in result.evidence


def test_no_tool_of_the_snapshot_goes_without_a_reason():
    for row in _snapshot()[::7]:
        result = classifier.classify({"name": row["tool"], "description": row["description"],
                                      "inputSchema": row.get("input_schema"), "annotations": row.get("annotations")})
        assert result.evidence and all(e.strip() for e in result.evidence), row["tool"]


def test_a_weak_guess_has_a_low_confidence():
    result = classifier.classify({"name": "acme_widgets_daily"})  # nothing names an action
    assert result.confidence <= 0.5
    assert any("weak guess" in e for e in result.evidence)


def test_flags_that_rules_find_stay_found():
    secret = classifier.classify({"name": "get_secret", "description": "Read a secret value from AWS Secrets Manager"})
    assert "touches_secrets" in secret.flags
    export = classifier.classify({"name": "export_notes", "description": "Export all notes to a URL",
                                  "inputSchema": {"type": "object", "properties": {"url": {"type": "string"}}}})
    assert "sends_data_out" in export.flags
