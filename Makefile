# Two set-up commands: `make demo` and `make test`. Both install what they need first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP_SYS := $(VENV)/.stamp-system
STAMP_PY := $(VENV)/.stamp-python
APT_PACKAGES := espeak-ng libsndfile1 chromium

.PHONY: setup demo test test-fast bench bench-f0 bench-soprano eval clean

setup: $(STAMP_SYS) $(STAMP_PY)

$(STAMP_SYS): Makefile
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi
	@mkdir -p $(VENV) && touch $@

$(STAMP_PY): pyproject.toml
	@[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip "setuptools<81" wheel
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e ".[neural,asr,eval,test,openvoice,serve,serve-test,ray,soprano,soprano-ref,train,provenance]"
	$(PIP) install -q --no-deps encodec==0.1.1
	@touch $@

demo: setup
	$(PY) -m voxclone.demo

test: setup
	$(PY) -m pytest -q

test-fast: setup
	$(PY) -m pytest -q -m "not slow and not eval"

bench: setup
	$(PY) -m voxclone.cli.main bench
	$(PY) -m voxclone.eval.bench_serve
	$(PY) -m voxclone.eval.bench_f0

bench-f0: setup
	$(PY) -m voxclone.eval.bench_f0

bench-soprano: setup
	$(PY) -m voxclone.eval.bench_soprano

eval: setup
	$(PY) -m voxclone.cli.main eval ../shared/eval-data --out out/eval

clean:
	rm -rf $(VENV) out .pytest_cache
