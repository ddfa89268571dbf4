"""What a tool's server says about the tool: how far to trust its author's annotations.

A server that marks every tool `destructiveHint: true` says little about each; one that marks only
its deletes says a lot. The context is read from the server's other tools (never its name, so a
renamed server classifies the same), and every path (`classify`, crawls, `probe`, `scan`) passes
the same thing: the server's whole tool list.
"""

HINTS = ("readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint")
# A hint value that (nearly) every annotated tool of a server carries is the server's habit, not a
# statement about the tool.
_UNIFORM_SHARE = 0.9
_MIN_TOOLS = 3


class ServerContext:
    """Per (hint, value): the share of the server's annotated tools that carry it."""

    __slots__ = ("shares", "annotated")

    def __init__(self, tools):
        counts = {}
        annotated = 0
        for tool in tools if isinstance(tools, (list, tuple)) else ():
            hints = tool.get("annotations") if isinstance(tool, dict) else None
            if not isinstance(hints, dict):
                continue
            seen = False
            for key in HINTS:
                value = hints.get(key)
                if isinstance(value, bool):
                    counts[key, value] = counts.get((key, value), 0) + 1
                    seen = True
            annotated += seen
        self.annotated = annotated
        self.shares = {hint: count / annotated for hint, count in counts.items()} if annotated else {}

    def hint_features(self, annotations):
        """`destructiveHint=True:all` (the server's habit) or `:some` (a choice made for this tool)."""
        if not annotations:
            return ()
        features = []
        for key in HINTS:
            value = annotations.get(key)
            if isinstance(value, bool):
                if self.annotated < _MIN_TOOLS:
                    spread = "few"
                else:
                    spread = "all" if self.shares.get((key, value), 0.0) >= _UNIFORM_SHARE else "some"
                features.append(f"{key}={value}:{spread}")
        return features


def context_signature(tools):
    """What of a tool list the classifier reads as context: two lists with the same signature give
    every tool the same verdict (the catalogue reclassifies a server's tools when it changes)."""
    context = ServerContext(tools)
    if context.annotated < _MIN_TOOLS:
        return ("few",)
    return ("spread", frozenset(hint for hint, share in context.shares.items() if share >= _UNIFORM_SHARE))


# Callers pass one mapping for all the tools of a server: its context is read once. The mapping is
# kept with it, so an id is never reused while remembered.
_recent = {}


def server_context(server):
    """The ServerContext of a server mapping with `tools` (None when there is nothing to read)."""
    if server is None:
        return None
    hit = _recent.get(id(server))
    if hit is not None and hit[0] is server:
        return hit[1]
    tools = server.get("tools") if isinstance(server, dict) else getattr(server, "tools", None)
    context = ServerContext(tools) if tools else None
    if len(_recent) >= 64:
        _recent.clear()
    _recent[id(server)] = (server, context)
    return context
