# The two commands of the README: `make demo` and `make test`. Everything else is their parts.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_DB := $(CURDIR)/instance/demo.db
PYTEST_WORKERS ?= 2

.PHONY: demo test install dev lint types unit translations serve clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Reinstall when pyproject.toml changes; a stamp per extra keeps `make test` quick the second time.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
dev: $(VENV)/.installed-dev

translations: install
	$(BIN)/python -c "from reviewer_app.i18n import compile_catalogs; compile_catalogs(force=True)"

demo: install translations
	mkdir -p instance
	rm -f $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm
	REVIEWER_APP_MODE=demo DATABASE_URL=sqlite:///$(DEMO_DB) $(BIN)/reviewer-app db upgrade
	REVIEWER_APP_MODE=demo DATABASE_URL=sqlite:///$(DEMO_DB) $(BIN)/reviewer-app demo
	REVIEWER_APP_MODE=demo DATABASE_URL=sqlite:///$(DEMO_DB) $(BIN)/reviewer-app run --host 127.0.0.1 --port 5000

lint: dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@# Every string translated (quiet when so; otherwise the list, and make fails).
	@$(BIN)/python -m reviewer_app.i18n --check >/dev/null 2>&1 || $(BIN)/python -m reviewer_app.i18n --check

types: dev
	$(BIN)/mypy

# The whole suite on SQLite, then again on PostgreSQL when TEST_DATABASE_URL is set (CI sets it):
# there, every test that uses the test database (the others would repeat the first pass exactly).
unit: dev translations
	env -u TEST_DATABASE_URL $(BIN)/python -m pytest -n $(PYTEST_WORKERS)
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "== again on PostgreSQL ($$TEST_DATABASE_URL), every test that uses the database"; \
		$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --database-tests-only; \
	fi

test: lint types unit

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache test-artifacts

# Benchmarks, not tests: figures beside their floors, measured in the same run
# (benchmarks/README.md). BENCH_DATABASE_URL adds a run on PostgreSQL (its tables are replaced).
bench: dev translations
	$(BIN)/python benchmarks/ranking_bench.py
	if [ -n "$$BENCH_DATABASE_URL" ]; then $(BIN)/python benchmarks/ranking_bench.py --database-url "$$BENCH_DATABASE_URL"; fi
	$(BIN)/python benchmarks/pages_bench.py
	if [ -n "$$BENCH_DATABASE_URL" ]; then $(BIN)/python benchmarks/pages_bench.py --database-url "$$BENCH_DATABASE_URL"; fi
	$(BIN)/python benchmarks/import_bench.py
	if [ -n "$$BENCH_DATABASE_URL" ]; then $(BIN)/python benchmarks/import_bench.py --database-url "$$BENCH_DATABASE_URL"; fi
	$(BIN)/python benchmarks/feedback_bench.py
	$(BIN)/python benchmarks/report_bench.py --demo-only
	$(BIN)/python benchmarks/report_parts_bench.py
	$(BIN)/python benchmarks/analytics_bench.py
