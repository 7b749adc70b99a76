# The two commands a newcomer needs: `make dev` (the whole stack locally) and `make test`.
# Both create .venv and install what they need on a fresh machine (Python 3.11, pip, venv).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-layers.txt requirements-dev.txt | cksum | cut -d' ' -f1)
STAGE ?= dev
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: dev test lint install package layers bench deploy-infra deploy deploy-clients clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements.txt requirements-layers.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.installed-* && touch $(STAMP)

# -- clients: the SDK's dev tools (esbuild) from the committed lockfile; `npm ci` replaces node_modules
NPM_STAMP := clients/js/node_modules/.installed-$(shell cksum < clients/js/package-lock.json | cut -d' ' -f1)

$(NPM_STAMP): clients/js/package-lock.json
	cd clients/js && npm ci --no-audit --no-fund --loglevel=error
	cd clients/js && npm run --silent build
	touch $(NPM_STAMP)

# -- issue 11: the console's one runtime library (Chart.js), pinned by its committed lockfile; no build step
CONSOLE_STAMP := clients/console/node_modules/.installed-$(shell cksum < clients/console/package-lock.json | cut -d' ' -f1)

$(CONSOLE_STAMP): clients/console/package-lock.json
	cd clients/console && npm ci --no-audit --no-fund --loglevel=error
	touch $(CONSOLE_STAMP)

install: $(STAMP) $(NPM_STAMP) $(CONSOLE_STAMP)

# ARGS=--simulated-clock lets local/simulator.py drive the clock.
dev: install  ## start the whole stack locally (moto, REST :8000, WebSocket :8001)
	$(BIN)/python -m local.devserver $(ARGS)

test: install lint  ## lint, then the whole test suite (Node: the SDK's unit tests; Python: the rest, browser included)
	cd clients/js && npm test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install  ## ruff, the dependency contracts (pyproject.toml) and strict typing of chalicelib
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy

package: install  ## the CloudFormation/SAM template and deployment zip Chalice would deploy
	$(BIN)/chalice package --stage $(STAGE) --merge-template infra/sam-merge.yaml out/$(STAGE)

layers: install  ## the Lambda layers (numpy, the bot's encoder) as out/layers/*.zip, without AWS
	$(BIN)/python -m infra.layers --out out/layers

bench: install  ## benchmarks against a local stack they start themselves
	$(BIN)/python -m bench.chat_roundtrip

deploy-infra: install  ## the stage's tables, queues, stream, buckets and layers (needs AWS credentials)
	$(BIN)/python -m infra.deploy --stage $(STAGE)

# deploy-infra writes the layers' ARNs into .chalice/config.json; Chalice cannot ask for partial batch
# responses, so infra.batch_responses sets them on the event sources `chalice deploy` made
deploy: deploy-infra  ## then the functions and APIs (chalice deploy; numpy and the encoder from the layers)
	$(BIN)/chalice deploy --stage $(STAGE)
	$(BIN)/python -m infra.batch_responses --stage $(STAGE)

deploy-clients: install  ## the chat widget and SDK bundles on S3 + CloudFront (infra/clients.yaml)
	$(BIN)/python -m infra.deploy_clients --stage $(STAGE)

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache .local-data test-output clients/js/node_modules clients/js/dist \
		clients/widget/dist clients/console/node_modules
