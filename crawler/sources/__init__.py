"""Sources: each yields `ServerManifest` items, whatever it reads from."""
