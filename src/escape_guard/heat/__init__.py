"""Heat: each finding's share of a CPU profile's samples, read with ``go tool pprof``."""
