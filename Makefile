# The entry point for people, CI and hooks alike: make serve, make test, make lint.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
SERVE_STAMP := $(VENV)/.serve-installed
MODELS ?= models

.PHONY: install serve train test docs screenshot lint format clean browser promtool wrk docker-gpu-check lock-gpu docker-smoke lock report bench soak audit docker-scale tiny-models

$(STAMP): pyproject.toml
	@echo "Installing the service, the trainer (torch) and the test tools into $(VENV): about 3 minutes here."
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip --version >/dev/null 2>&1 || $(PY) -m ensurepip --default-pip  # make serve's venv has no pip
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[serve,train,dev]'
	touch $(STAMP)

install: $(STAMP)

# What serving needs and no more (no torch): the service image's locked list, complete, so no resolving, and the
# client's httpx (client/requirements.txt), so that the quick start's client examples run from this venv.
# A full install (make install/test) already has it all.
# Seconds count here (a fresh clone answers within 30 s): the venv gets no pip of its own when this Python's pip can
# install into it (pip >= 22.3, --python; 7 s saved), and no bytecode is compiled ahead (5 s saved).
SERVE_INSTALL := install --quiet --no-deps --no-compile --disable-pip-version-check -r docker/requirements-serve.txt \
	-r client/requirements.txt
$(SERVE_STAMP): docker/requirements-serve.txt client/requirements.txt
	@test -f $(STAMP) || echo "Installing what the service and its client need into $(VENV) (no torch): about 20 seconds here."
	test -x $(PY) || $(PYTHON) -m venv --without-pip $(VENV)
	test -f $(STAMP) || if $(PYTHON) -m pip --python $(PY) --version >/dev/null 2>&1; \
		then $(PYTHON) -m pip --python $(PY) $(SERVE_INSTALL); \
		else $(PY) -m ensurepip --default-pip >/dev/null && $(PY) -m pip $(SERVE_INSTALL); fi
	touch $(SERVE_STAMP)

## train: install the trainer (torch's CPU build and the rest: about 3 minutes the first time), then train the default model on every bundled series and 24 simulated paths into $(MODELS)/ (about 5 minutes on a quiet 2-core machine here)
train: install
	$(PY) -m training train --out $(MODELS)

## serve: install what serving needs, copy the bundled default model if $(MODELS)/ holds none, serve on 127.0.0.1:8000
serve: $(SERVE_STAMP)
	@test -s $(MODELS)/CURRENT || $(PY) -m training install-default --out $(MODELS)
	FORECAST_MODEL_DIR=$(MODELS) $(PY) -m service

## test: lint, then the whole test suite (tests train tiny models, never the full one) with a coverage report
## (in-process code only: the servers the tests start as processes are not counted; the floor is what the suite meets).
## The suite runs on up to 4 CPUs (pytest-xdist; pyproject's --dist loadfile keeps each file on one worker, in order,
## since a file's examples may build on each other), then the tests that time themselves (marker serial) alone, so
## that no neighbour slows what they time; each part fails when it ran no test.
COV := --cov=service --cov=training --cov=client
test: install lint browser promtool wrk
	$(PY) -m pytest -n auto --maxprocesses 4 -m "not serial" $(COV) --cov-report= --durations=20
	$(PY) -m pytest -m serial $(COV) --cov-append --cov-report=term --cov-fail-under=80

## docs: the documentation site (docs/, mkdocs.yml) into site/; strict, so a broken link or a missing page fails it
docs: install
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --site-dir site

## screenshot: the page as a new user first sees it (bundled model, the tutorial's CSV forecast) -> reports/page.png
screenshot: install browser
	$(PY) -m scripts.page_screenshot --out reports/page.png

## tiny-models: retrain the frozen tiny models that service tests serve (tests/data/tiny; a test checks they still match)
tiny-models: install
	$(PY) -m tests.frozen

## browser: Debian's headless chromium and chromedriver for the page's tests (apt; no browser download)
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; }

## wrk: the HTTP load generator of make bench (and of its tests)
wrk:
	@command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }

## promtool: Debian's Prometheus rule checker, for the tests of deploy/prometheus/alerts.yml (apt)
promtool:
	@command -v promtool >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends prometheus >/dev/null; }

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy service training bench client scripts
	$(VENV)/bin/hadolint Dockerfile docker/Dockerfile.train docker/Dockerfile.gpu docker/Dockerfile.lb

## bench: model speed; HTTP vs the limit, the floor, LitServe, MLServer, BentoML (own venvs) and 1 vs N workers; recording on vs off; batches, cold start, memory -> bench/results.md
bench: install wrk
	test -s $(MODELS)/CURRENT || $(PY) -m training install-default --out $(MODELS)
	$(PY) -m bench.run --models $(MODELS) --readme docs/performance.md

## soak: 5 minutes at 64 connections; no errors, memory growth under 10%
soak: install
	$(PY) -m bench.soak --models $(MODELS)

## audit: known vulnerabilities in the service image's locked dependencies (pip-audit)
audit: install
	bash scripts/audit.sh

## report: walk-forward evaluation against naive and other baselines -> reports/sp500.md; then leave-one-asset-out
## -> reports/loo.md (about 15 minutes here); the blocks of docs/model.md for both; then what a 60-price window can reach on the
## held-out simulated assets -> reports/window_limit.md (about 25 minutes), what a reader that knows only the
## model family reaches on every series of the table -> reports/family_reader.md (about 25 minutes), and adaptive
## intervals on every bundled series replayed through the service -> reports/adaptive.md (about 4 minutes)
report: install
	$(PY) -m training evaluate --data training/data/sp500.csv.gz --name sp500 --out reports --readme docs/model.md
	$(PY) -m training evaluate --leave-one-out --out reports --readme docs/model.md
	$(PY) -m training window-limit --out reports
	$(PY) -m training family-reader --out reports
	$(PY) -m scripts.adaptive_report --out reports

## docker-smoke: build both images, compose up, predict, retrain, hot reload, tear down (needs a Docker engine)
docker-smoke:
	bash tests/docker/smoke.sh

## docker-gpu-check: build the GPU image; CUDA libraries resolve, cuda refused and auto on CPU without a GPU
docker-gpu-check:
	bash tests/docker/gpu_image.sh

## lock-gpu: regenerate the GPU image's locked dependencies (onnxruntime-gpu with CUDA 13 + cuDNN 9 from PyPI)
lock-gpu:
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	grep -v -e '^onnxruntime==' -e '^#' docker/requirements-serve.txt > .venv-lock/serve.txt
	.venv-lock/bin/pip install --quiet --dry-run --ignore-installed --report .venv-lock/report.json \
		-r .venv-lock/serve.txt "onnxruntime-gpu[cuda,cudnn]==1.31.1"
	{ head -3 docker/requirements-gpu.txt; .venv-lock/bin/python -c 'import json; r = json.load(open(".venv-lock/report.json")); print("\n".join(sorted(i["metadata"]["name"] + "==" + i["metadata"]["version"] for i in r["install"])))'; } > docker/requirements-gpu.txt.new
	mv docker/requirements-gpu.txt.new docker/requirements-gpu.txt
	rm -rf .venv-lock

## docker-scale: three api replicas behind nginx; spread and a replica killed mid-load (needs a Docker engine)
docker-scale:
	bash tests/docker/scale.sh

## lock: regenerate the service image's locked dependencies from the serve extra
lock:
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet '.[serve]'
	{ head -2 docker/requirements-serve.txt; .venv-lock/bin/pip freeze --exclude lstm-forecast; } > docker/requirements-serve.txt.new
	mv docker/requirements-serve.txt.new docker/requirements-serve.txt
	rm -rf .venv-lock

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
