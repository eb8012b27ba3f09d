# Two commands do everything:  make run   and   make test
# While working, `make check` runs lint and the tests that need no servers, in under a minute.
.DEFAULT_GOAL := help
SHELL := /bin/bash

VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
MODEL := models/current.tar.gz
# ruff as installed from requirements.lock; RUFF=/path/to/ruff uses another install.
RUFF ?= $(PY) -m ruff
# The passage questions as NLU examples (scripts/asked_nlu.py), made here, not kept in git.
ASKED_NLU := data/nlu/asked.yml
RASA_DATA := config.yml domain.yml $(ASKED_NLU) $(filter-out $(ASKED_NLU),$(shell find data -name '*.yml' 2>/dev/null))

# The defaults of defaults.env (ports, offline and telemetry switches) for whatever the
# environment does not set: `rasa test` reads ACTION_PORT through endpoints.yml.
$(foreach line,$(shell grep -E '^[A-Z_][A-Z0-9_]*=' defaults.env),$(eval export $(subst =, ?= ,$(line))))

.PHONY: help setup index train run cluster check lint test validate stories bench lock clean teams-package

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 16

setup: $(VENV)/.installed  ## create .venv and install the pinned dependencies

$(VENV)/.installed: requirements.lock pyproject.toml package-lock.json scripts/setup.sh scripts/apt-packages.txt
	scripts/setup.sh
	touch $@

index: setup  ## build the passage index if the corpus or model changed
	$(PY) -m bot build

train: $(MODEL)  ## train the Rasa model if its data changed

$(MODEL): $(VENV)/.installed $(RASA_DATA)
	$(RASA) train --fixed-model-name current --out models
	touch $@

$(ASKED_NLU): corpus/passage_questions.yml scripts/asked_nlu.py $(VENV)/.installed
	$(PY) scripts/asked_nlu.py $@

run: index train  ## set up, build, train, then start the action server and the Rasa server
	scripts/run.sh

cluster: index train  ## as `run`, with Rasa servers and action servers behind HAProxy, on PostgreSQL and Redis
	scripts/cluster.sh

validate: setup $(ASKED_NLU)  ## check the Rasa training data
	$(RASA) data validate --fail-on-warnings

stories: train  ## check the test conversations in tests/test_stories.yml
	$(RASA) test core --stories tests/test_stories.yml --fail-on-prediction-errors --out var/rasa-test

lint: setup  ## ruff: lint and check the formatting (`ruff format` fixes the formatting)
	$(RUFF) check .
	$(RUFF) format --check .

check: lint index  ## lint and the tests that need no servers, browser or long training (under a minute)
	$(PY) -m pytest -q -m "not servers and not browser and not slow"

test: lint index train validate stories  ## the whole test suite
	$(PY) -m pytest

bench: index train  ## measure speed and memory over HTTP, one server and clusters (stop `make run` first); writes bench/results.md
	$(PY) -m bench

teams-package: setup  ## write dist/teams-app.zip, the Teams app to upload (needs TEAMS_APP_ID)
	$(PY) scripts/teams_package.py dist/teams-app.zip

lock:  ## re-resolve requirements.lock from pyproject.toml
	$(PY) -m uv pip compile pyproject.toml --extra test --python-version 3.10 -o requirements.lock

clean:  ## remove the built index, trained models and logs (keeps .venv and conversations)
	rm -rf var/index var/log models
