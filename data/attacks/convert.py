"""Turn two public MCP attack benchmarks into tool definitions, as a client would list them.

    python data/attacks/convert.py MSB_DIR MCPSECBENCH_DIR

Each argument is a checkout (or a bare git directory) of the upstream repository; the commits used
are recorded in README.md. Tools are rebuilt from the servers' Python source the way FastMCP lists
them: the docstring is the description, the signature gives `inputSchema` (the `Context` argument
left out). Nothing upstream is run.

- MSB (dongsenzhang/MSB, MIT): the attack servers under data/tools/attack_tools/. Variant files
  (`server-preference_manipulation.py`, ...) give one attack type each; tools identical to the
  benign server's are left out. The prompt-injection attacks are built as MSB's own agent builds
  them (mcp_use/agents/prompts/system_prompt_builder.py): PROMPT_INJECTION_TEMPLATE of
  data/prompt_template.py, filled with each goal of data/attack_task.jsonl, appended to a benign
  tool's description ("prompt_injection") or to its first parameter's description
  ("prompt_injection-parameter_description").
- MCPSecBench (AIS2Lab/MCPSecBench, MIT): the tools of code/maliciousadd.py and code/squatting.py
  that its data/data.json attacks use, labelled by hand below (the rug pull's upgraded description
  is the docstring the tool assigns itself after its second call).

`in_definition` says whether the attack can be seen in the tool's definition at all: name overlap,
squatting and tool transfer are visible only beside the other server's tools, or in a response.
"""

import ast
import inspect
import json
import pathlib
import re
import subprocess
import sys

HERE = pathlib.Path(__file__).parent
ATTACK_TOOLS = "data/tools/attack_tools"
# Attack types whose text is in the definition; the others need the tool's neighbours or its response.
IN_DEFINITION = {"preference_manipulation", "out_of_scope_parameter",
                 "preference_manipulation-out_of_scope_parameter", "prompt_injection",
                 "prompt_injection-parameter_description"}
MCPSECBENCH_LABELS = {
    # tool (file) -> (attack in data/data.json, visible in the definition)
    ("maliciousadd.py", "add"): ("tool_poisoning", True),
    ("maliciousadd.py", "modify"): ("tool_poisoning", True),
    ("maliciousadd.py", "m_check"): ("tool_shadowing", True),
    ("maliciousadd.py", "aft_check"): ("tool_shadowing", True),
    ("maliciousadd.py", "times"): ("data_exfiltration", True),
    ("maliciousadd.py", "get_weather_forecast"): ("rug_pull", True),
    ("maliciousadd.py", "compute_"): ("tool_name_squatting", False),
    ("squatting.py", "check"): ("server_name_squatting", False),
}
_JSON_TYPES = {"str": "string", "int": "integer", "float": "number", "bool": "boolean",
               "list": "array", "dict": "object"}


class Repo:
    """Files of a checkout or a bare git directory, read at HEAD."""

    def __init__(self, path):
        self.path = pathlib.Path(path)
        self.bare = not (self.path / ".git").exists() and (self.path / "HEAD").exists()

    def git(self, *args):
        where = ["--git-dir", str(self.path)] if self.bare else ["-C", str(self.path)]
        return subprocess.run(["git", *where, *args], check=True, capture_output=True, text=True).stdout

    def commit(self):
        return self.git("rev-parse", "HEAD").strip()

    def files(self, under):
        return [line for line in self.git("ls-tree", "-r", "--name-only", "HEAD", under).splitlines()]

    def read(self, path):
        return self.git("show", f"HEAD:{path}")


def fastmcp_tools(source, attack=None):
    """(function node, tool) for every function decorated with `mcp.tool()`, in source order.

    A file that registers each attack's tools in its own function (`register_tools_<attack>`, as
    MSB's Word server does) gives only that attack's tools.
    """
    found = []
    tree = ast.parse(source)
    if attack:
        scope = f"register_tools_{attack.replace('-', '_')}"
        tree = next((node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef) and node.name == scope),
                    tree)
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
                _is_tool_decorator(d) for d in node.decorator_list):
            found.append((node, _tool(node, ast.get_docstring(node, clean=True) or "")))
    found.sort(key=lambda pair: pair[0].lineno)
    return found


def _is_tool_decorator(node):
    target = node.func if isinstance(node, ast.Call) else node
    return isinstance(target, ast.Attribute) and target.attr == "tool"


def _tool(node, description):
    properties, required = {}, []
    args = node.args.args
    defaults = [None] * (len(args) - len(node.args.defaults)) + list(node.args.defaults)
    for arg, default in zip(args, defaults):
        kind = ast.unparse(arg.annotation) if arg.annotation is not None else ""
        if kind == "Context" or arg.arg in ("self", "ctx"):
            continue
        prop = {"title": arg.arg.replace("_", " ").title()}
        if kind in _JSON_TYPES:
            prop["type"] = _JSON_TYPES[kind]
        if default is None:
            required.append(arg.arg)
        elif isinstance(default, ast.Constant) and default.value is not None:
            prop["default"] = default.value
        properties[arg.arg] = prop
    schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return {"name": node.name, "description": description, "inputSchema": schema}


def _template(repo, name):
    """A string constant assigned at the top of MSB's data/prompt_template.py."""
    for node in ast.parse(repo.read("data/prompt_template.py")).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            return node.value.value
    raise LookupError(name)


def msb(repo):
    source = f"github:dongsenzhang/MSB@{repo.commit()}"
    rows = []
    files = [p for p in repo.files(ATTACK_TOOLS) if p.endswith(".py")]
    variants = [p for p in files if re.search(r"-[a-z_-]+\.py$", p)]
    bases = {}
    for path in variants:
        base = re.sub(r"-[a-z_-]+\.py$", ".py", path)
        bases.setdefault(base, []).append(path)
    injection = _template(repo, "PROMPT_INJECTION_TEMPLATE")
    goals = [json.loads(line) for line in repo.read("data/attack_task.jsonl").splitlines() if line.strip()]
    for base, paths in sorted(bases.items()):
        benign = {tool["name"]: tool for _, tool in fastmcp_tools(repo.read(base))}
        server = base.split("/")[-2]
        for path in sorted(paths):
            attack = re.search(r"-([a-z_-]+)\.py$", path).group(1)
            for _, tool in fastmcp_tools(repo.read(path), attack):
                if benign.get(tool["name"]) == tool:
                    continue  # (unchanged: not an attack tool)
                rows.append(_row(tool, attack, attack in IN_DEFINITION, server, f"{source}:{path}"))
        for name, tool in benign.items():
            for goal in goals:
                goal_text = injection.replace("{goal}", goal["implementation"])
                # As MSB's builder does: the injection ends the description, before any `Args:`.
                head, sep, args = tool["description"].partition("Args:")
                described = dict(tool, description=head.rstrip() + "\n" + goal_text + "\n\n" + sep + args
                                 if sep else tool["description"] + goal_text)
                rows.append(_row(described, "prompt_injection", True, server, f"{source}:{base}",
                                 goal["attack_task"]))
                props = tool["inputSchema"]["properties"]
                if props:
                    first = next(iter(props))
                    schema = json.loads(json.dumps(tool["inputSchema"]))
                    schema["properties"][first]["description"] = (
                        props[first].get("description", props[first]["title"]) + " " + goal_text)
                    rows.append(_row(dict(tool, inputSchema=schema), "prompt_injection-parameter_description",
                                     True, server, f"{source}:{base}", goal["attack_task"]))
    return rows


def mcpsecbench(repo):
    source = f"github:AIS2Lab/MCPSecBench@{repo.commit()}"
    rows = []
    for file in ("maliciousadd.py", "squatting.py"):
        text = repo.read(f"code/{file}")
        for node, tool in fastmcp_tools(text):
            label = MCPSECBENCH_LABELS.get((file, tool["name"]))
            if label is None:
                continue
            upgraded = _assigned_docstring(node)
            if upgraded:  # (the rug pull: the description it lists after its second call)
                tool = dict(tool, description=inspect.cleandoc(upgraded))
            rows.append(_row(tool, label[0], label[1], file.removesuffix(".py"), f"{source}:code/{file}"))
    return rows


def _assigned_docstring(node):
    for child in ast.walk(node):
        if isinstance(child, ast.Assign) and any(
                isinstance(t, ast.Attribute) and t.attr == "__doc__" and getattr(t.value, "id", "") == node.name
                for t in child.targets) and "IMPORTANT" in child.value.value:
            return child.value.value
    return None


def _row(tool, attack, in_definition, server, source, goal=None):
    row = {"server": server, "attack_type": attack, "in_definition": in_definition, "tool": tool,
           "source": source}
    if goal:
        row["goal"] = goal
    return row


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__.split("\n\n")[1])
    for name, rows in (("msb", msb(Repo(argv[1]))), ("mcpsecbench", mcpsecbench(Repo(argv[2])))):
        with open(HERE / f"{name}.jsonl", "w", encoding="utf-8") as out:
            for row in rows:
                out.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
        print(f"{name}: {len(rows)} attack tools")


if __name__ == "__main__":
    main(sys.argv)
