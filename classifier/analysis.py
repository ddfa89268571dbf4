"""One pass over a tool: its facts, the rules' evidence, the rules' verdict, and the model's features."""

from .features import name_tokens, tool_facts
from .flags import flags_evidence
from .rules import DECISIVE, category_evidence, decide


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
    __slots__ = ("facts", "primary", "found", "rule_category", "rule_confidence", "rule_flags", "server_tokens")

    def features(self):
        from .model import model_features

        features = model_features(self.facts, self.found, self.rule_category, self.rule_flags, self.primary)
        features.extend("s:" + token for token in self.server_tokens)
        return features

    def reasons(self, category):
        """Evidence for `category` first, then what argued against it."""
        if not self.found:
            return ["no action word in name, description or schema: weak guess"]
        winning = sorted((e for e in self.found if e.category == category), key=lambda e: -e.weight)
        against = [f"against: {e.text}" for e in self.found if e.category != category and e.weight >= 0.5]
        return [e.text for e in winning] + against


def analyse(tool, server=None):
    analysis = Analysis()
    facts = analysis.facts = tool_facts(tool)
    analysis.primary, analysis.found = category_evidence(facts)
    category, score, rival = decide(analysis.found)
    if category is None:
        analysis.rule_category, analysis.rule_confidence = "read", 0.3
    else:
        corroborated = sum(1 for e in analysis.found if e.category == category) > 1
        analysis.rule_category, analysis.rule_confidence = category, _confidence(score, rival, corroborated)
    analysis.rule_flags = flags_evidence(facts, analysis.rule_category, analysis.found)
    name = server.get("name") if isinstance(server, dict) else None
    analysis.server_tokens = sorted(set(name_tokens(name))) if isinstance(name, str) else []
    return analysis
