# Two commands do all the set-up on a fresh Debian machine: `make run` and `make test`.
# They create .venv, install the package with its extras, and install missing Debian
# packages when run as root (otherwise they print the apt-get command to run).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# axe-core from npm for the console's accessibility tests (tests/console/axe/package-lock.json)
AXE := tests/console/axe/node_modules/axe-core/axe.min.js
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test lint bench screenshots demo-video lock clean system-deps-run system-deps-test

run: system-deps-run $(STAMP)
	$(BIN)/kiosk demo

test: system-deps-test $(STAMP) $(AXE)
	$(BIN)/ruff check kiosk tests bench scripts
	$(BIN)/ruff format --check kiosk tests bench scripts
	$(BIN)/mypy kiosk
	# pytest exits 5 when it collected nothing: that fails here like any other error.
	# Two workers, each with its own Xvfb: window and server tests on both.
	$(BIN)/python -m pytest -n 2 --dist loadgroup --timeout=300 -p no:cacheprovider --durations=15

bench: system-deps-test $(STAMP)
	$(BIN)/python -m bench

screenshots: system-deps-test $(STAMP)
	$(BIN)/python -m pytest -p no:cacheprovider tests/terminal/ui -k screenshots --screens=all

# The demo member's card video that camera = "auto" plays when no camera is attached.
demo-video: $(STAMP)
	$(BIN)/python scripts/make_demo_video.py

lint: $(STAMP)
	$(BIN)/ruff check kiosk tests bench scripts
	$(BIN)/ruff format --check kiosk tests bench scripts
	$(BIN)/mypy kiosk

system-deps-run:
	@scripts/system-deps.sh run

system-deps-test:
	@scripts/system-deps.sh test

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[backend,ui,dev]'
	@touch $@

$(AXE): tests/console/axe/package.json tests/console/axe/package-lock.json
	npm ci --prefix tests/console/axe --no-audit --no-fund
	@touch $@

lock: $(STAMP)
	$(BIN)/python -m pip freeze --exclude-editable | sed '1i # Versions the suite was last run with; `make` installs within these (pip -c). Refresh: make lock' > constraints.txt

clean:
	rm -rf $(VENV) var tests/artifacts tests/console/axe/node_modules
