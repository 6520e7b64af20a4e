"""Credit assignment: pure functions from step rows to per-step advantages (numpy, networkx)."""
