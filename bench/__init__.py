"""wmo-atlas benchmarks: `./dev bench` (or `make bench`)."""
