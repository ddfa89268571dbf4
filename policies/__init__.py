"""Policies from the catalogue's classifications: what to allow, rate-limit, ask about, hide or
deny for each tool (decisions, with profiles and a user's overrides), rendered in the format of a
gateway or client (formats), written one file per server (export), and checked later against the
catalogue by the hashes they pin (pins). It reads the catalogue (and classifier.grades, for the toxic
flows a profile breaks); the catalogue knows nothing of it."""
