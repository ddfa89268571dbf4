"""Policies from the catalogue's classifications: what to allow, rate-limit, ask about, hide or
deny for each tool (decisions, with profiles and a user's overrides), rendered in the format of a
gateway or client (formats), written one file per server (export), and checked later against the
catalogue by the hashes they pin (pins). Servers are graded A-F with their toxic flows (grades, pure:
it imports nothing). It reads the catalogue; the catalogue knows nothing of it but `grades`, which it stores."""
