# Thin wrappers around ./dev, which also works on a machine without make.
.PHONY: run build test bench lint dictionary

run:
	./dev run

build:
	./dev build

test:
	./dev test

bench:
	./dev bench

lint:
	.venv/bin/ruff check .

dictionary:
	.venv/bin/python -m etl.metadata > docs/data-dictionary.md
