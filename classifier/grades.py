"""Server risk: a grade A-F per server, its reasons, and the toxic flows in a server and in a config.

Pure functions over classified tools (dicts with `tool` or `name`, `category`, `flags`), following the
"Server risk" section of the taxonomy:

  F  a tool with `suspicious_instructions`, or a toxic flow inside the server
  D  a `destructive` or `financial` tool
  C  an `execute` tool, or a tool that `sends_data_out` or `touches_secrets`
  B  `write` tools, none of the above
  A  only `read` tools, none of the above

A tool not (yet) classified counts as `execute`: no evidence is no evidence of safety.

A toxic flow is one tool that takes in `untrusted_content`, one that reads `private_data` and one that
`sends_data_out` (possibly the same tool). There is one flow per channel out: the leg a policy puts
behind approval. Its other two legs are the first untrusted and private tools by name, taken from the
channel's own server when it has them.

Every reason only ever adds to the ones before it, so adding a tool never improves a grade; tools are
read in name order, so the same tools always give the same answer.
"""

from dataclasses import dataclass, field

GRADES = ("A", "B", "C", "D", "F")
RANK = {grade: i for i, grade in enumerate(GRADES)}
LEGS = ("untrusted", "private", "out")
LEG_FLAGS = {"untrusted": "untrusted_content", "private": "private_data", "out": "sends_data_out"}


def worse_or_equal(grade, threshold):
    """Whether `grade` is at least as bad as `threshold` (`D` for `--fail-on D`)."""
    return RANK[grade] >= RANK[threshold]


@dataclass(frozen=True, order=True)
class ToolRef:
    server: str
    tool: str

    def as_dict(self):
        return {"server": self.server, "tool": self.tool}

    def __str__(self):
        return f"{self.server}/{self.tool}"


@dataclass(frozen=True)
class Flow:
    untrusted: ToolRef
    private: ToolRef
    out: ToolRef

    @property
    def servers(self):
        return sorted({self.untrusted.server, self.private.server, self.out.server})

    def as_dict(self):
        return {"untrusted": self.untrusted.as_dict(), "private": self.private.as_dict(), "out": self.out.as_dict()}

    def describe(self, *, with_server=False):
        name = str if with_server else (lambda ref: ref.tool)
        return (f"untrusted content from {name(self.untrusted)}, private data from {name(self.private)}, "
                f"sent out by {name(self.out)}")


@dataclass(frozen=True)
class Reason:
    grade: str
    says: str
    tools: tuple

    def as_dict(self):
        return {"grade": self.grade, "says": self.says, "tools": list(self.tools)}

    def __str__(self):
        return f"{self.grade}: {self.says}: {', '.join(self.tools)}"


@dataclass(frozen=True)
class ServerGrade:
    server: str
    grade: str
    reasons: tuple
    flows: tuple = field(default=())

    def as_dict(self):
        return {"server": self.server, "grade": self.grade, "reasons": [r.as_dict() for r in self.reasons],
                "flows": [f.as_dict() for f in self.flows]}


@dataclass(frozen=True)
class ConfigGrade:
    servers: dict  # name -> ServerGrade, in name order
    flows: tuple   # flows that run across two or more servers

    def all_flows(self):
        """In-server flows then cross-server ones: every flow a policy of the config must break."""
        return tuple(f for g in self.servers.values() for f in g.flows) + self.flows

    def as_dict(self):
        return {"servers": [g.as_dict() for g in self.servers.values()], "flows": [f.as_dict() for f in self.flows]}


def _name(tool):
    return str(tool.get("tool") if tool.get("tool") is not None else tool.get("name"))


def _flags(tool):
    return set(tool.get("flags") or ())


def _legs(server, tools):
    """For each leg, the server's tools that can play it, as ToolRefs in name order."""
    legs = {leg: [] for leg in LEGS}
    for tool in tools:
        flags = _flags(tool)
        for leg, flag in LEG_FLAGS.items():
            if flag in flags:
                legs[leg].append(ToolRef(server, _name(tool)))
    return legs


# (grade, what it says, which tools): checked worst first; every one that applies is a reason.
_CHECKS = (
    ("F", "instructions to the model hidden in its definition", lambda c, f: "suspicious_instructions" in f),
    ("D", "can lose data for good", lambda c, f: c == "destructive"),
    ("D", "can move money or commit to spend it", lambda c, f: c == "financial"),
    ("C", "runs code, commands or jobs", lambda c, f: c == "execute"),
    ("C", "not classified yet, so counted as able to run anything", lambda c, f: c is None),
    ("C", "sends data out to a destination the caller chooses", lambda c, f: "sends_data_out" in f),
    ("C", "touches credentials", lambda c, f: "touches_secrets" in f),
    ("B", "changes state", lambda c, f: c == "write"),
)


def grade_server(tools, server=""):
    """The ServerGrade of one server's classified tools."""
    tools = sorted(tools, key=_name)
    by_check = [[] for _ in _CHECKS]
    for tool in tools:
        category, flags = tool.get("category"), _flags(tool)
        for i, (_, _, applies) in enumerate(_CHECKS):
            if applies(category, flags):
                by_check[i].append(_name(tool))
    flows = _flows_within(server, _legs(server, tools))
    reasons = []
    if flows:
        named = sorted({ref.tool for f in flows for ref in (f.untrusted, f.private, f.out)})
        outs = ", ".join(f.out.tool for f in flows)
        says = (f"toxic flow: untrusted content from {flows[0].untrusted.tool}, private data from "
                f"{flows[0].private.tool}, sent out by {outs}")
        reasons.append(Reason("F", says, tuple(named)))
    for (grade, says, _), names in zip(_CHECKS, by_check):
        if names:
            reasons.append(Reason(grade, says, tuple(names)))
    if not reasons:
        reasons.append(Reason("A", "only reads", tuple(_name(t) for t in tools)))
    grade = max((r.grade for r in reasons), key=RANK.__getitem__)
    return ServerGrade(server, grade, tuple(reasons), tuple(flows))


def _flows_within(server, legs):
    if not (legs["untrusted"] and legs["private"]):
        return []
    return [Flow(legs["untrusted"][0], legs["private"][0], out) for out in legs["out"]]


def grade_config(servers):
    """Grades of the servers of one client config ({name: tools}) and the flows that run across them.

    A cross-server flow is reported per channel out when the config has an untrusted and a private
    leg, unless the channel's own server holds both (that flow is the server's own, reported with it).
    """
    grades, legs = {}, {}
    for name in sorted(servers):
        tools = sorted(servers[name], key=_name)
        grades[name] = grade_server(tools, name)
        legs[name] = _legs(name, tools)
    pooled = {leg: [ref for name in legs for ref in legs[name][leg]] for leg in ("untrusted", "private")}
    flows = []
    if pooled["untrusted"] and pooled["private"]:
        for name, mine in legs.items():
            if mine["untrusted"] and mine["private"]:
                continue  # the server's own flow, one per channel, already in its grade
            untrusted = (mine["untrusted"] or pooled["untrusted"])[0]
            private = (mine["private"] or pooled["private"])[0]
            flows += [Flow(untrusted, private, out) for out in mine["out"]]
    return ConfigGrade(grades, tuple(flows))


def flow_reason(flow, *, with_server=True):
    """The words a policy gives for the leg it holds back."""
    return f"breaks a toxic flow ({flow.describe(with_server=with_server)})"
