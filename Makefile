# function-ai-workspace: the commands a developer needs.
#   make render [EXAMPLE=examples/<dir>]   the rendered YAML stream of an example (stdout only)
#   make test                              every check CI runs but the control plane
#   make e2e [FLAVOURS=claims]             both API flavours' scenarios on a real control plane and node
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
EXAMPLE ?= examples/basic-namespaced
SCHEMA_CHECK := hack/librechat-schema
TEMPLATE_CHECK := hack/backstage-template
export SHARED_CRDS ?= $(abspath ../shared/crds)

.PHONY: help
help: ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

# The runtime dependencies at the versions the runtime image ships (hack/runtime-wheels.lock, without its hashes,
# as constraints), so the tests run what users run.
$(VENV)/.installed: pyproject.toml hack/runtime-wheels.lock
	@$(PYTHON) -m venv $(VENV) >&2
	@$(PY) -m pip install --quiet --upgrade pip >&2
	@$(PY) -m pip install --quiet -e '.[dev]' -c <(sed -n 's/^\([A-Za-z0-9._-]*==[^ ]*\).*/\1/p' hack/runtime-wheels.lock) >&2
	@touch $@

$(SCHEMA_CHECK)/node_modules/.installed: $(SCHEMA_CHECK)/package-lock.json
	@cd $(SCHEMA_CHECK) && npm ci --no-audit --no-fund --silent >&2
	@touch $@

$(TEMPLATE_CHECK)/node_modules/.installed: $(TEMPLATE_CHECK)/package-lock.json
	@cd $(TEMPLATE_CHECK) && npm ci --no-audit --no-fund --silent >&2
	@touch $@

.PHONY: setup
setup: $(VENV)/.installed $(SCHEMA_CHECK)/node_modules/.installed $(TEMPLATE_CHECK)/node_modules/.installed tools ## Install everything the tests need.

.PHONY: tools
tools: ## Build (once) and cache the crossplane CLI and core binary, helm and promtool outside the clone.
	@bash hack/tools.sh >&2

.PHONY: generate
generate: $(VENV)/.installed ## Regenerate apis/ (XRDs, Compositions, Configurations, activation policies) and portal/ from function/.
	@$(PY) hack/generate.py

.PHONY: render
render: $(VENV)/.installed tools ## Render EXAMPLE through the real crossplane CLI.
	@$(PY) hack/xp.py render $(EXAMPLE)

.PHONY: crds
crds: $(VENV)/.installed tools ## Find the providers' CRDs (SHARED_CRDS, ../shared/crds, or the pinned packages).
	@$(PY) hack/xp.py crds

.PHONY: test
test: setup crds ## Run every test (unit, golden renders, schema validation, secret scan, determinism), then lint.
	@$(PY) -m pytest
	@$(MAKE) --no-print-directory lint

.PHONY: e2e
e2e: setup package ## Both flavours' Chainsaw scenarios (e2e/) on a real control plane and node, on loopback (hack/fixture.py).
	@bash hack/tools.sh e2e >&2
	@$(PY) hack/e2e.py $(FLAVOURS)

.PHONY: scale
scale: setup package ## N workspaces on the e2e control plane, where the cost goes (SCALE_ARGS="--workspaces 25 100 --markdown out.md").
	@bash hack/tools.sh e2e >&2
	@$(PY) hack/scale.py $(SCALE_ARGS)

.PHONY: golden
golden: setup ## Regenerate the golden renders (then review the diff like code).
	@UPDATE_GOLDEN=1 $(PY) -m pytest tests/test_render.py -q

.PHONY: lint
lint: $(VENV)/.installed ## ruff and mypy.
	@$(VENV)/bin/ruff check function tests hack
	@$(VENV)/bin/ruff format --check function tests hack
	@$(VENV)/bin/mypy

.PHONY: bench
bench: $(VENV)/.installed ## The function against a no-op SDK function over loopback gRPC (BENCH_ARGS="--json out.json --markdown table.md").
	@$(PY) hack/bench.py $(BENCH_ARGS)

.PHONY: package
package: $(VENV)/.installed tools ## Build the Function, its runtime image embedded (hack/runtime_image.py, reproducible), and every Configuration.
	@$(PY) hack/packages.py build "$$(bash hack/tools.sh --print | sed -n 's/^CROSSPLANE=//p')"
