"""PolicyLayer Intercept's policy loader, validator and call decision, ported rule by rule so tests can
load our YAML the way Intercept does (its Go binary is not installable from a package registry here).

Source: github.com/PolicyLayer/Intercept at commit 77f0429 ("feat(policies): add new scaffolds..."):
  internal/config/config.go    Config/ToolDef/Rule/Condition/StateDef structs (l. 14-50), Load (l. 53-66),
                               applyDefaults (l. 70-122), parseRateLimit (l. 125-139)
  internal/config/validate.go  validWindows (l. 30-32), Validate (l. 36-80), validateRule (l. 83-153),
                               hasMatchingStateBlock (l. 221-242), validateHide (l. 254-269)
  internal/engine/engine.go    Evaluate (l. 71-110), matchingRules (l. 113-127)
Where Go decodes with yaml.v3 into the structs, this reads with PyYAML and checks the same types; keys the
structs do not name (`x-mcp-risk`) are ignored, as yaml.v3's Unmarshal (without KnownFields) ignores them.
"""

import yaml

VALID_WINDOWS = {"minute", "hour", "day"}  # validate.go l. 30-32


def parse_rate_limit(text):
    """config.go l. 125-139: "N/window", N a positive integer, window minute|hour|day."""
    count, slash, window = str(text).partition("/")
    if not slash:
        raise ValueError(f'rate_limit must be in the format "N/window", got {text!r}')
    if not count.lstrip("+-").isdigit() or int(count) <= 0:  # strconv.Atoi, then count <= 0
        raise ValueError(f"rate_limit count must be a positive integer, got {count!r}")
    if window not in VALID_WINDOWS:
        raise ValueError(f"rate_limit window must be minute, hour or day, got {window!r}")
    return int(count), window


def load(text):
    """config.go Load (l. 53-66) then applyDefaults (l. 70-122). Raises ValueError where yaml.v3 would
    fail to decode into the structs."""
    document = yaml.safe_load(text)
    if not isinstance(document, dict):
        raise ValueError("parsing config file: not a mapping")
    for key in ("version", "description", "default"):
        if not isinstance(document.get(key, ""), str):
            raise ValueError(f"parsing config file: {key} is not a string")
    hide = document.get("hide") or []
    if not (isinstance(hide, list) and all(isinstance(h, str) for h in hide)):
        raise ValueError("parsing config file: hide is not a list of strings")
    tools = {}
    for name, tool in (document.get("tools") or {}).items():
        if not isinstance(tool, dict) or not isinstance(tool.get("rules") or [], list):
            raise ValueError(f"parsing config file: tools.{name} is not a ToolDef")
        rules = []
        for rule in tool.get("rules") or []:
            if not isinstance(rule, dict):
                raise ValueError(f"parsing config file: tools.{name} has a rule that is not a mapping")
            rules.append({"name": rule.get("name", ""), "action": rule.get("action", ""),
                          "rate_limit": rule.get("rate_limit", ""), "conditions": list(rule.get("conditions") or []),
                          "on_deny": rule.get("on_deny", ""), "state": rule.get("state")})
        tools[str(name)] = rules
    config = {"version": document.get("version", ""), "default": document.get("default", "") or "allow",  # l. 72-74
              "hide": hide, "tools": tools}
    for tool_name, rules in tools.items():
        for rule in rules:
            if rule["rate_limit"]:  # l. 80-111: desugar the shorthand (RateLimit cleared at l. 108)
                if not rule["conditions"] and rule["state"] is None and rule["action"] != "deny":
                    try:
                        count, window = parse_rate_limit(rule["rate_limit"])
                    except ValueError:
                        pass
                    else:
                        scope = "_global" if tool_name == "*" else tool_name  # l. 86-89
                        counter = "_rate_" + window
                        rule.update(action="evaluate", rate_limit="",
                                    conditions=[{"path": f"state.{scope}.{counter}", "op": "lte", "value": count}],
                                    state={"counter": counter, "window": window, "increment": 1})
                        rule["on_deny"] = rule["on_deny"] or f"Rate limit of {count} per {window} reached. Try again later."
            if not rule["action"]:  # l. 113-115
                rule["action"] = "evaluate"
    return config


def validate(config):
    """validate.go Validate (l. 36-80): every error, not just the first."""
    errors = []
    if config["version"] != "1":
        errors.append(f"version must be \"1\", got {config['version']!r}")
    if config["default"] not in ("allow", "deny"):
        errors.append(f"default must be \"allow\" or \"deny\", got {config['default']!r}")
    seen = set()
    for i, name in enumerate(config["hide"]):  # validateHide, l. 254-269
        if not name.strip():
            errors.append(f"hide[{i}]: entry must not be empty")
        elif name in seen:
            errors.append(f"hide: duplicate entry {name!r}")
        else:
            seen.add(name)
    for tool_name in sorted(config["tools"]):
        counters = {}
        for i, rule in enumerate(config["tools"][tool_name]):
            if rule["state"] is not None:
                counter = rule["state"].get("counter", "")
                if counter in counters:
                    errors.append(f"tools.{tool_name}.rules[{i}]: duplicate state counter {counter!r}")
                counters.setdefault(counter, i)
        for i, rule in enumerate(config["tools"][tool_name]):
            errors += _validate_rule(f"tools.{tool_name}.rules[{i}]", rule, config)
    return errors


def _validate_rule(prefix, rule, config):
    """validate.go validateRule, l. 83-153 (validateCondition's operators and values, l. 156-195: only what we write)."""
    errors = []
    if rule["rate_limit"]:  # l. 87-103: desugaring was skipped
        try:
            parse_rate_limit(rule["rate_limit"])
        except ValueError as error:
            errors.append(f"{prefix}: {error}")
        if rule["conditions"] or rule["state"] is not None:
            errors.append(f"{prefix}: rate_limit cannot be combined with conditions or state")
        if rule["action"] == "deny":
            errors.append(f'{prefix}: rate_limit cannot be used with action "deny"')
        return errors
    if not rule["name"]:
        errors.append(f"{prefix}: rule must have a name")
    if rule["action"] not in ("evaluate", "deny"):
        errors.append(f"{prefix}: action must be \"evaluate\" or \"deny\", got {rule['action']!r}")
    if rule["action"] == "deny" and rule["conditions"]:
        errors.append(f"{prefix}: deny rules must not have conditions")
    if rule["action"] == "evaluate" and not rule["conditions"]:
        errors.append(f"{prefix}: evaluate rules must have at least one condition")
    for condition in rule["conditions"]:  # l. 133-151: a state path names its tool between the first two dots
        path = str(condition.get("path", ""))
        if not (path.startswith("args.") or path.startswith("state.")):
            errors.append(f"{prefix}: path must start with \"args.\" or \"state.\", got {path!r}")
        if not path.startswith("state."):
            continue
        parts = path.split(".", 2)  # strings.SplitN(cond.Path, ".", 3)
        if len(parts) < 3:
            continue
        if not _has_matching_state_block(config, parts[1], parts[2]):
            errors.append(f"{prefix}: condition references state.{parts[1]}.{parts[2]} but no matching state block found")
    return errors


def _has_matching_state_block(config, tool_name, counter):
    """validate.go l. 221-242."""
    rules = config["tools"].get(tool_name)
    if rules is None:
        if tool_name != "_global" or "*" not in config["tools"]:
            return False
        rules = config["tools"]["*"]
    return any(rule["state"] is not None and rule["state"].get("counter") == counter for rule in rules)


def allowed(config, tool):
    """engine.go Evaluate, l. 71-110, for a first call (every counter at 0): (allowed, rule, message)."""
    for name in config["hide"]:
        if name == tool or name == "*":
            return False, "(hidden)", f"Tool {tool!r} is hidden by policy"
    if config["default"] == "deny" and tool not in config["tools"]:
        return False, "(default deny)", f"Tool {tool!r} is not permitted by policy"
    rules = list(config["tools"].get(tool, []))  # matchingRules, l. 113-127
    if tool != "*":
        rules += config["tools"].get("*", [])
    for rule in rules:
        if rule["action"] == "deny":
            return False, rule["name"], rule["on_deny"]
        for condition in rule["conditions"]:
            if not (condition["op"] == "lte" and str(condition["path"]).startswith("state.") and 0 <= condition["value"]):
                raise NotImplementedError(f"condition not mirrored: {condition}")
    return True, None, None
