"""Tool poisoning: instructions to the model hidden in any text of a tool's definition.

The attacks that research has collected (MSB, MCPSecBench, Invariant Labs' reports) are rarely a
bare `<IMPORTANT>` tag: they are plausible "mandatory pre-checks" that ask the model to call another
tool first, to read `~/.ssh` or `.env`, to pass what it read in an argument, to prefer this tool over
the others, to tell it who it is, or to keep the user uninformed. They may sit in the title, the
description, any property's description, an enum or default value, or the output schema: a model
reads them all, so all are read here.

`poisoning_evidence(facts)` returns one line of evidence, naming where the sign is and quoting the
offending span, or None. It is rules only: each sign is a phrase a tool's own job never needs.
"""

import re

# Characters that hide text from people, not from models: Unicode tags, bidirectional overrides.
# (Zero-width spaces are common copy-and-paste debris and are not counted.)
_HIDDEN_CHARS = re.compile("[\U000e0000-\U000e007f\u202a-\u202e\u2066-\u2069]")

# Each sign: what it is, then its forms as (anchor, regex). A form's regex is tried only where its
# anchor (a plain string every match starts with) occurs in the text: one substring scan per anchor
# is far cheaper than a large alternation tried at every character of every text.
_SIGNS = (
    ("tagged instructions", (
        ("<", r"<\s*/?\s*(?:important|system|hidden|sudo|admin|information|critical)\b[^<>]{0,40}>|<!--"),
        ("[", r"\[\s*important\s*\]"),
    )),
    ("tells the model to ignore its instructions", (
        ("ignore ", r"ignore (?:all |any )?(?:the )?(?:previous|prior|above|earlier|preceding|your) (?:\w+ )?"
                    r"(?:instructions|prompts?|rules|directions)\b"
                    r"|ignore (?:the )?(?:descriptions?|instructions) of (?:the |all |any )?(?:other )?tools\b"),
        ("disregard ", r"disregard (?:all |any )?(?:the )?(?:previous|prior|above|earlier|your) "),
    )),
    ("keeps the user uninformed", (
        ("do not ", r"do not (?:\w+ ){0,2}(?:tell|mention|inform|notify|reveal|show|alert|disclose)\b[^.\n]{0,40}"
                    r"\b(?:user|human|them)\b|do not (?:explicitly )?mention (?:that|this|it)\b"),
        ("don't ", r"don't (?:\w+ ){0,2}(?:tell|mention|inform|notify|reveal|show|alert|disclose)\b[^.\n]{0,40}"
                   r"\b(?:user|human|them)\b|don't (?:explicitly )?mention (?:that|this|it)\b"),
        ("never ", r"never (?:\w+ ){0,2}(?:tell|mention|inform|notify|reveal|alert|disclose)\b[^.\n]{0,40}"
                   r"\b(?:user|human|them)\b"),
        ("must not ", r"must not (?:\w+ ){0,2}(?:tell|mention|inform|notify|reveal|alert|disclose)\b[^.\n]{0,40}"
                      r"\b(?:user|human|them)\b"),
        ("without ", r"without (?:telling|informing|notifying|alerting) (?:the )?user\b"),
        ("secretly", r"secretly\b"),
        ("covertly", r"covertly\b"),
        ("keep ", r"keep (?:this|it|these|that) (?:\w+ )?(?:from|hidden from|secret from) (?:the )?user\b"),
        ("hide ", r"hide (?:this|it|these|that) (?:\w+ )?from (?:the )?user\b"),
        ("the user ", r"the user (?:must|should|will) (?:not|never) (?:know|see|notice|be told)\b"),
    )),
    ("speaks to the model as its user", (
        ("this is an important message", r"this is an important message from (?:the )?user\b"),
        ("before you can solve", r"before you can solve the task\b"),
        ("you must strictly adhere", r"you must strictly adhere to\b"),
        ("new user query", r"new user query\b"),
        ("i am the user", r"i am the user\b"),
        ("signed", r"signed,?\s+the user\b"),
        ("the previous task has been completed", r"the previous task has been completed\b"),
    )),
    ("asks to be preferred over other tools", (
        ("the best tool", r"the best tool (?:in the world|ever|available|of all)\b"),
        ("use this ", r"use this (?:tool|function) (?:rather than|instead of|over|before) (?:any |all |the )?others?\b"),
        ("choose this ", r"choose this (?:tool|function) (?:rather than|instead of|over) (?:any |all |the )?others?\b"),
        ("prefer this ", r"prefer this (?:tool|function) (?:to|over) (?:any |all |the )?others?\b"),
        ("no matter how many", r"no matter how many (?:arguments|parameters|values)\b"),
        # shadowing by name: "instead of send_email, use this tool"
        ("instead of ", r"instead of (?:using |calling )?(?:the )?`?[\w.-]+`?(?: tool| function)?,? (?:always |just )?"
                        r"(?:use|call) this (?:tool|function)\b"),
    )),
    ("tells the model to change another tool's call or result", (
        ("before ", r"before (?:using|calling|executing|running|execute|you use|you call) [^.\n]{1,60}?"
                    r"(?:execute|run|call|use|invoke) this (?:tool|function)\b"),
        ("after ", r"after (?:using|calling|executing|running|execute|you use|you call) [^.\n]{1,60}?"
                   r"(?:execute|run|call|use|invoke) this (?:tool|function)\b"),
        ("replace the ", r"replace the (?:values|arguments|parameters|result) with (?:the |its )?(?:response|result|output)\b"),
        ("modify the ", r"modify the (?:wrong|incorrect) (?:result|output|response) of\b"),
        # a "mandatory pre-check": another tool, named as a tool, to be called before this one
        ("before ", r"before (?:using|calling|executing|running|you use|you call) this (?:tool|function)[^.\n]{0,20}?,? "
                    r"(?:you )?(?:must|should|need to|have to) (?:first |always )?(?:call|run|use|invoke|execute) "
                    r"(?:the )?`?[\w.-]+`? (?:tool|function)\b"),
    )),
    ("overrides how other tools behave", (
        ("when this tool is", r"when this tool is (?:available|present|installed|enabled|loaded)\b"),
        (" tool must ", r" tool must (?:always |now )?(?:send|forward|include|use|call|cc|bcc|redirect)\b"),
        (" tool should ", r" tool should (?:always |now )?(?:send|forward|include|use|call|cc|bcc|redirect)\b"),
        (" tools must ", r" tools must (?:first |always )?(?:call|use|send)\b"),
        (" tools should ", r" tools should (?:first |always )?(?:call|use|send)\b"),
        ("all ", r"all (?:emails?|e-mails?|messages?|mail|payments?|transfers?) (?:must|should|shall) (?:also |always )?"
                 r"(?:be )?(?:sent|forwarded|copied|routed|redirected|bcc'd|cc'd) to\b"),
    )),
    ("asks for secrets to be passed along", tuple(
        (verb + " ", verb + r" (?:the |all |any |your )?(?:api[_ ]?keys?|passwords?|credentials?|private keys?|ssh keys?|"
                           r"secrets?|tokens?|contents? of [^.\n]{0,40}) [^.\n]{0,30}?"
                           r"\b(?:in|into|as|to) (?:your |the |a )?['\"`]?(?:response|answer|reply|output|sidenote|"
                           r"side note|note|notes)\b")
        for verb in ("include", "append", "add", "put", "pass", "send", "provide", "attach")) + tuple(
        (verb + " ", verb + r" [^.\n]{0,30}?(?:internal://credentials|~/\.ssh|~/\.aws|id_rsa\b|\.env\b|mcp\.json\b|"
                           r"claude_desktop_config|\.npmrc\b|\.netrc\b)")
        for verb in ("access", "read", "open", "cat", "load"))),
    ("asks the model who it is", (
        ("that calls this tool", r"that calls this tool\b"),
        ("which calls this tool", r"which calls this tool\b"),
        ("that is calling this tool", r"that is calling this tool\b"),
        ("that invokes this tool", r"that invokes this tool\b"),
        ("your system prompt", r"your system prompt\b"),
    )),
)
_WORD = re.compile(r"[a-z][a-z0-9]*(?:'[a-z]+)?")  # (as features' words: "don't" is one)


def _key(anchor):
    """The word a text must hold for the anchor to occur in it: its longest (rarest) one, or a mark."""
    found = _WORD.findall(anchor)
    return max(found, key=len) if found else anchor


# (key, what, anchor, match), in the order of _SIGNS: the first sign found is the one reported.
_FORMS = [(_key(anchor), what, anchor, re.compile(pattern).match) for what, forms in _SIGNS for anchor, pattern in forms]
_BY_KEY = {}
for _index, (_form_key, *_) in enumerate(_FORMS):
    _BY_KEY.setdefault(_form_key, []).append(_index)
_KEYS = frozenset(_BY_KEY)
_MARKS = tuple(key for key in _KEYS if not key[0].isalpha())
# Sensitive files a tool may name for its own job (an SSH tool, a key manager) but that elsewhere
# mark a request for another program's secrets.
_SENSITIVE_FILES = re.compile(
    r"~/\.ssh|\bid_rsa\b|\.ssh/|/etc/passwd|/etc/shadow|\bmcp\.json\b|claude_desktop_config|"
    r"\.aws/credentials")
_SENSITIVE_MARKS = (".ssh", "id_rsa", "/etc/", "mcp.json", "claude_desktop", ".aws/")
_SENSITIVE_JOBS = frozenset("ssh key keys host hosts vm vmss machine credential credentials config configs "
                            "secret secrets known server servers".split())
# Parameters that ask the calling model about itself: who it is, what tools and context it has.
# A tool's job never needs them (MSB's "out of scope parameter", MCPSecBench's `tools_list`).
_CALLER_NAMES = frozenset("""
    llm_name llmname llm_model_name llmmodelname llm_model llmmodel llm_id caller_model callermodel
    calling_model callingmodel caller_model_name ai_model_name aimodelname model_that_calls
    tools_list toolslist tool_list toollist available_tools availabletools all_tools alltools
    your_name yourname your_model yourmodel""".split())
_SCHEMA_TEXT_KEYS = ("description", "title", "default", "examples", "enum", "const")
_MAX_TEXTS = 600
_QUOTE = 80


def poisoning_evidence(facts, tool=None):
    """Evidence that a tool's definition carries instructions to the model, or None."""
    places = [("description", None, facts.description)]
    if facts.title:
        places.append(("title", None, facts.title.lower()))
    for prop in facts.properties:
        if prop.description:
            places.append(("parameter", prop, prop.description.lower()))
        if prop.enum:
            places.append(("values", prop, " | ".join(prop.enum).lower()))
        if prop.default:
            places.append(("default", prop, prop.default.lower()))
    output = tool.get("outputSchema") if isinstance(tool, dict) else None
    if output and isinstance(output, dict):
        strings = list(_schema_strings(output))
        if strings:
            places.append(("output schema", None, " | ".join(strings).lower()))
    # One text for the scans; a match is traced back to its place (only poisoned tools pay for it).
    if len(places) > 1:
        text = "\n".join([text for _, _, text in places])
        words = facts.words.union(_WORD.findall(text, len(facts.description)))
    else:
        text, words = facts.description, facts.words
    found = _sign_in(text, words, facts)
    if found:
        what, start, span = found
        return f"{_place(places, start)} {what}: \"{_quote(span)}\""
    for prop in facts.properties:
        if prop.lower in _CALLER_NAMES or prop.key in _CALLER_NAMES:
            return f"parameter `{prop.name}` asks the calling model about itself"
    return None


def _place(places, start):
    """Where in the definition the joined text's offset `start` lies, in words."""
    end = 0
    for kind, prop, text in places:
        end += len(text) + 1
        if start < end:
            break
    if prop is None:
        return kind
    return {"parameter": f"parameter `{prop.name}`", "values": f"parameter `{prop.name}` values",
            "default": f"parameter `{prop.name}` default"}[kind]


def _schema_strings(schema):
    """The string values a model reads in a JSON schema (bounded: schemas can be hostile)."""
    stack = [(schema, 0)]
    count = 0
    while stack and count < _MAX_TEXTS:
        node, depth = stack.pop()
        if depth > 8:
            continue
        if isinstance(node, dict):
            for key, value in node.items():
                if key in _SCHEMA_TEXT_KEYS:
                    if isinstance(value, str):
                        count += 1
                        yield value
                    elif isinstance(value, list):
                        for item in value[:50]:
                            if isinstance(item, str):
                                count += 1
                                yield item
                elif isinstance(value, (dict, list)):
                    stack.append((value, depth + 1))
        elif isinstance(node, list):
            stack.extend((item, depth + 1) for item in node[:200])


def _sign_in(text, words, facts):
    """(what, start, span) of the first sign in the lowercase text (whose words are given), or None."""
    if not text:
        return None
    if not text.isascii():
        hidden = _HIDDEN_CHARS.search(text)
        if hidden:
            return "hides invisible characters", hidden.start(), _HIDDEN_CHARS.sub("\ufffd", _around(text, hidden))
    keys = _KEYS.intersection(words)
    marks = [mark for mark in _MARKS if mark in text]
    if marks:
        keys = keys.union(marks)
    find = text.find
    if keys:
        candidates = [index for key in keys for index in _BY_KEY[key]]
        if len(candidates) > 1:
            candidates.sort()  # (the first sign of _SIGNS is reported, whatever the set's order)
        for index in candidates:
            _, what, anchor, match = _FORMS[index]
            at = find(anchor)
            while at >= 0:
                if at == 0 or not anchor[0].isalnum() or not text[at - 1].isalnum():
                    found = match(text, at)
                    if found:
                        return what, at, found.group(0)
                at = find(anchor, at + 1)
    if any(map(text.__contains__, _SENSITIVE_MARKS)) and facts.token_set.isdisjoint(_SENSITIVE_JOBS):
        match = _SENSITIVE_FILES.search(text)
        if match and "travers" not in text:  # (a file tool naming what its path checks block)
            return "names another program's secrets", match.start(), _around(text, match)
    return None


def _around(text, match):
    start = max(0, match.start() - 30)
    return text[start:match.end() + 30]


def _quote(span):
    span = " ".join(span.split())
    return span if len(span) <= _QUOTE else span[:_QUOTE - 1] + "…"
