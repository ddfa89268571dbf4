"""The catalogue: stores what the crawler finds and the classifier decides, answers queries,
and exports policies. It composes `crawler` and `classifier`; they know nothing of it."""
