#!/bin/sh
# The whole check, as CI runs it: install into .venv (created if missing), then format, lint,
# type-check, import contracts and tests. Usage: sh scripts/check.sh [pytest args...]
set -eu
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
echo "== ruff format" && .venv/bin/ruff format --check --quiet feeds tui tests bench
echo "== ruff check" && .venv/bin/ruff check --quiet feeds tui tests bench
echo "== mypy" && .venv/bin/mypy
echo "== import contracts" && .venv/bin/lint-imports --no-cache 2>&1 | tail -n 4
echo "== pytest" && .venv/bin/python -m pytest -q "$@"
