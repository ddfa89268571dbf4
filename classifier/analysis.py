"""One pass over a tool: its facts, the rules' evidence, the rules' verdict, and the model's features."""

from .context import server_context
from .features import tool_facts
from .flags import flags_evidence
from .model import feature_groups
from .rules import DECISIVE, HINT, category_evidence, decide

FIRM = 0.8  # evidence this strong, unopposed, keeps the rules' category unless the model is very sure


def _confidence(score, rival, corroborated):
    """The rules' own confidence, used when no model is loaded."""
    if score >= 1.0:
        confidence = 0.92
    elif score >= 0.9:
        confidence = 0.85
    elif score >= 0.8:
        confidence = 0.75
    elif score >= DECISIVE:
        confidence = 0.7
    else:
        confidence = 0.25 + 0.5 * score
    if corroborated:
        confidence += 0.04
    if rival >= DECISIVE:
        # Less severe, yet decisive: the taxonomy lets the most severe win, so only a small doubt.
        confidence -= 0.05
    return round(min(max(confidence, 0.05), 0.97), 2)


class Analysis:
    __slots__ = ("facts", "primary", "found", "rule_category", "rule_flags", "context_features", "_verdict")

    @property
    def guess(self):
        """Nothing in the definition names an action: whatever category it gets is a weak guess."""
        return not any(evidence[1] >= HINT for evidence in self.found)

    @property
    def firm(self):
        """The rules found decisive evidence for their category and none for another."""
        category, score, rival = self._verdict
        return category is not None and score >= FIRM and rival < DECISIVE

    @property
    def rule_confidence(self):
        """The rules' own confidence in `rule_category` (what classifies without a model)."""
        category, score, rival = self._verdict
        if category is None:
            return 0.3
        corroborated = sum(1 for e in self.found if e.category == category) > 1
        return _confidence(score, rival, corroborated)

    def features(self):
        """The model's features as strings (for training)."""
        from .model import model_features

        return model_features(self.facts, self.found, self.rule_category, self.rule_flags, self.primary,
                              self.context_features)

    def feature_groups(self):
        """The model's features as (prefix, keys) groups (for inference)."""
        return feature_groups(self.facts, self.found, self.rule_category, self.rule_flags, self.primary,
                              self.context_features)

    def reasons(self, category):
        """Evidence for `category` first, then what argued against it."""
        found = self.found
        if not found:
            return ["no action word in name, description or schema: a weak guess, with a low confidence"]
        if len(found) == 1:
            evidence = found[0]
            if evidence.category == category:
                return [evidence.text]
            return ([f"against: {evidence.text}"] if evidence.weight >= 0.5
                    else [f"no rule names `{category}` here: the model's reading of the words"])
        winning = sorted((e for e in found if e.category == category), key=_by_weight)
        against = [f"against: {e.text}" for e in found if e.category != category and e.weight >= 0.5]
        reasons = [e.text for e in winning] + against
        return reasons or [f"no rule names `{category}` here: the model's reading of the words"]


def _by_weight(evidence):
    return -evidence.weight


def analyse(tool, server=None):
    """The rules' reading of one tool; `server` (a mapping with the server's `tools`) is context."""
    analysis = Analysis()
    facts = analysis.facts = tool_facts(tool)
    analysis.primary, found = category_evidence(facts)
    analysis.found = found
    verdict = analysis._verdict = decide(found)
    category = analysis.rule_category = verdict[0] or "read"
    analysis.rule_flags = flags_evidence(facts, category, found, tool)
    context = server_context(server) if server is not None else None
    analysis.context_features = context.hint_features(facts.annotations) if context is not None else ()
    return analysis
