"""The `mcp-risk` command line: each command a thin layer over one library call.

The commands live in modules by what they work on (crawl, live, classify, query, policy); each
imports only `cli.common` of its siblings, and this module gathers them into one group.
"""

import click

from . import classify, crawl, live, policy, query


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mcp-risk")
def cli():
    """mcp-risk: a risk catalogue of the tools MCP servers expose to AI agents.

    Crawl tool manifests, classify every tool (read, write, execute, destructive, financial; risk
    low to critical; flags; evidence), keep them in a SQLite catalogue, and export a recommended
    policy per server.

    \b
    Quick start:
      mcp-risk crawl snapshot            # the bundled snapshot: 24,071 real tools
      mcp-risk search "delete repository"
      mcp-risk export-policies out/policies/
    """


cli.add_command(crawl.crawl)
for _module in (classify, live, query, policy):
    for _command in _module.COMMANDS:
        cli.add_command(_command)
