# Two commands do all set-up on a fresh machine (see README): `make demo` and `make test`.
.PHONY: demo test bootstrap lint docs bench

bootstrap:
	@./scripts/bootstrap.sh

demo: bootstrap
	.venv/bin/python examples/run_demo.py

test: bootstrap
	.venv/bin/python -m pytest

lint: bootstrap
	.venv/bin/ruff check lsforensics tests benchmarks examples

docs: bootstrap
	.venv/bin/python -m lsforensics._cli.docs

bench: bootstrap
	.venv/bin/python benchmarks/extract.py
