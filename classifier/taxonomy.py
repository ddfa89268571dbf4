"""The contract of the taxonomy (docs/taxonomy.md): categories, their risk, flags and severity order."""

# Least to most severe: when several apply, the most severe wins.
CATEGORIES = ("read", "write", "execute", "destructive", "financial")
SEVERITY = {category: rank for rank, category in enumerate(CATEGORIES)}

RISK = {
    "read": "low",
    "write": "medium",
    "execute": "high",
    "destructive": "critical",
    "financial": "critical",
}
RISKS = ("low", "medium", "high", "critical")

FLAGS = (
    "open_world",
    "sends_data_out",
    "touches_secrets",
    "filesystem",
    "suspicious_instructions",
    "private_data",
    "untrusted_content",
)


def most_severe(categories):
    """The most severe of some categories, or None when there are none."""
    return max(categories, key=SEVERITY.__getitem__, default=None)
