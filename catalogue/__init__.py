"""The catalogue: stores what the crawler finds and the classifier decides (store), answers
queries (queries), keeps every definition's history (history) and serves it for browsing (serve).
It composes `crawler` and `classifier`, which know nothing of it; `policies` and `cli` read it."""
