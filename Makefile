# PMO Pulse — everything a fresh machine needs is installed by these targets.
#   make demo   set up, generate the demo organisation, run the monthly DAG, show the outputs
#   make test   set up and run the whole test suite (what CI runs)
#   make bench  set up and run the benchmarks: the monthly run at BENCH_SIZES projects, then one large load

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DIR ?= demo
BENCH_ROWS ?= 2000000
BENCH_SIZES ?= 100,1000,10000
# The last complete month, as the monthly run would report it today.
PERIOD ?= $(shell date -u -d "$$(date -u +%Y-%m-01) -1 month" +%Y-%m)
AIRFLOW_ENV = AIRFLOW_HOME=$(CURDIR)/$(DEMO_DIR)/airflow \
	AIRFLOW__CORE__DAGS_FOLDER=$(CURDIR)/dags \
	AIRFLOW__CORE__PLUGINS_FOLDER=$(CURDIR)/plugins \
	AIRFLOW__CORE__LOAD_EXAMPLES=False \
	PMOPULSE_CONFIG=$(CURDIR)/$(DEMO_DIR)/pmopulse.yaml

.PHONY: help install sysdeps demo test bench lint lock clean

help:
	@echo "make demo   - install, generate the demo organisation, run the monthly DAG for $(PERIOD)"
	@echo "make test   - install and run the whole test suite"
	@echo "make bench  - install and run the benchmarks: every stage at $(BENCH_SIZES) projects (BENCH_SIZES=...),"
	@echo "              then loading $(BENCH_ROWS) timesheet rows (BENCH_ROWS=N); about 7 minutes"
	@echo "make lint   - ruff and mypy"
	@echo "make lock   - re-resolve requirements.lock from pyproject.toml"

# System packages WeasyPrint, MPXJ (a Java runtime) and the tests need; installed only when missing.
sysdeps:
	@missing=""; \
	command -v pdftotext >/dev/null || missing="$$missing poppler-utils"; \
	fc-list 2>/dev/null | grep -q "Noto Sans CJK SC" || missing="$$missing fonts-noto-cjk"; \
	ldconfig -p | grep -q libharfbuzz-subset.so.0 || missing="$$missing libharfbuzz-subset0"; \
	ldconfig -p | grep -q libpango-1.0.so.0 || missing="$$missing libpango-1.0-0"; \
	ldconfig -p | grep -q libpangoft2-1.0.so.0 || missing="$$missing libpangoft2-1.0-0"; \
	command -v java >/dev/null || missing="$$missing default-jre-headless"; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	@touch $(STAMP)

install: sysdeps $(STAMP)

demo: install
	$(BIN)/pmopulse demo-data $(DEMO_DIR) --as-of $(PERIOD)
	@echo "preparing Airflow's SQLite metadata database in $(DEMO_DIR)/airflow/ ..."
	@$(AIRFLOW_ENV) $(BIN)/airflow db migrate > $(DEMO_DIR)/airflow-migrate.log 2>&1
	@echo "running DAG pmo_monthly_governance for $(PERIOD) with 'airflow dags test' ..."
	@$(AIRFLOW_ENV) $(BIN)/airflow dags test pmo_monthly_governance \
	  -c '{"config": "$(CURDIR)/$(DEMO_DIR)/pmopulse.yaml", "period": "$(PERIOD)"}' \
	  > $(DEMO_DIR)/airflow-run.log 2>&1 || { tail -n 60 $(DEMO_DIR)/airflow-run.log; exit 1; }
	@grep -o "DagRun Finished.*state=[a-z]*" $(DEMO_DIR)/airflow-run.log | sed 's/logical_date.*state=/... state=/' | tail -n 1 || true
	@echo "running DAG pmo_maturity_assessment by hand on the demo's questionnaire answers ..."
	@$(AIRFLOW_ENV) $(BIN)/airflow dags test pmo_maturity_assessment \
	  -c '{"config": "$(CURDIR)/$(DEMO_DIR)/pmopulse.yaml", "answers_file": "$(CURDIR)/$(DEMO_DIR)/data/assessment_responses.csv"}' \
	  > $(DEMO_DIR)/airflow-assessment.log 2>&1 || { tail -n 60 $(DEMO_DIR)/airflow-assessment.log; exit 1; }
	@echo
	@echo "PMO Pulse demo for $(PERIOD) finished."
	@echo "  PDF reports: $(CURDIR)/$(DEMO_DIR)/artifacts/$(PERIOD)/reports/ ($$(cd $(DEMO_DIR)/artifacts/$(PERIOD)/reports && ls *.pdf | tr '\n' ' '))"
	@echo "  outbox mails: $(CURDIR)/$(DEMO_DIR)/artifacts/$(PERIOD)/outbox/ ($$(ls $(DEMO_DIR)/artifacts/$(PERIOD)/outbox | wc -l) .eml files)"
	@echo "  data quality: $(CURDIR)/$(DEMO_DIR)/artifacts/$(PERIOD)/validation.json"
	@echo "  Data Docs:    $(CURDIR)/$(DEMO_DIR)/artifacts/$(PERIOD)/data_docs/index.html"
	@echo "  KPIs:         $(CURDIR)/$(DEMO_DIR)/artifacts/$(PERIOD)/kpis.json (history: $(DEMO_DIR)/artifacts/history.sqlite)"
	@echo "  Airflow log:  $(CURDIR)/$(DEMO_DIR)/airflow-run.log"
	@echo "  Assessment:   $$(ls $(CURDIR)/$(DEMO_DIR)/artifacts/assessments/*/reports/*.pdf | tail -n 1)"
	@echo "                (with 'airflow standalone' running, drop answers into $(CURDIR)/$(DEMO_DIR)/inbox/)"

test: install
	$(BIN)/pytest

bench: install
	$(BIN)/python benchmarks/bench_pipeline.py --sizes $(BENCH_SIZES)
	$(BIN)/python benchmarks/bench_load.py --rows $(BENCH_ROWS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

# Re-resolve the pinned set from pyproject.toml in a scratch venv (needs the registry).
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet --upgrade pip
	.lock-venv/bin/pip install --quiet ".[dev]"
	.lock-venv/bin/pip freeze --exclude pmopulse > requirements.lock
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache .mypy_cache .ruff_cache
