"""Classify MCP tools by what a call can do: category, risk, flags, confidence and evidence.

    >>> from classifier import classify
    >>> classify({"name": "delete_repository", "description": "Delete a repository"}).category
    'destructive'

A plain library: it reads MCP Tool objects (mappings with `name`, `title`, `description`,
`inputSchema`, `annotations`) and knows nothing of where they came from or where they go.
"""

from dataclasses import dataclass

from .features import tool_facts
from .flags import flags_evidence
from .rules import DECISIVE, category_evidence, decide
from .taxonomy import CATEGORIES, FLAGS, RISK, RISKS, SEVERITY

VERSION = "rules-0.1"

__all__ = ["CATEGORIES", "FLAGS", "RISK", "RISKS", "SEVERITY", "VERSION", "Classification", "classify"]

_MAX_EVIDENCE = 8


@dataclass(frozen=True, slots=True)
class Classification:
    category: str
    risk: str
    flags: tuple
    confidence: float
    evidence: tuple
    version: str = VERSION

    def as_dict(self):
        return {
            "category": self.category,
            "risk": self.risk,
            "flags": list(self.flags),
            "confidence": self.confidence,
            "evidence": list(self.evidence),
        }


def _confidence(score, rival, corroborated):
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


def classify(tool, server=None):
    """Classify one MCP tool object. `server` (name, description) is context for later rules."""
    facts = tool_facts(tool)
    found = category_evidence(facts)
    category, score, rival = decide(found)
    if category is None:
        category = "read"
        confidence = 0.3
        reasons = ["no action word in name, description or schema: assumed read (weak)"]
    else:
        winning = sorted((e for e in found if e.category == category), key=lambda e: -e.weight)
        confidence = _confidence(score, rival, len(winning) > 1)
        reasons = [e.text for e in winning]
        reasons += [f"against: {e.text}" for e in found if e.category != category and e.weight >= 0.5]
    flags = flags_evidence(facts, category, found)
    reasons += [f"{flag}: {why}" for flag, why in flags.items()]
    return Classification(
        category=category,
        risk=RISK[category],
        flags=tuple(flag for flag in FLAGS if flag in flags),
        confidence=confidence,
        evidence=tuple(reasons[:_MAX_EVIDENCE]),
    )
