#!/usr/bin/env bash
# Rebuilds demo/embeddings.npz: the bundled papers' vectors, so `make run` need not
# spend minutes embedding. Run it after changing the model or the demo data.
set -euo pipefail
cd "$(dirname "$0")/.."
DP=${DP:-.venv/bin/dailypapers}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
$DP --data-dir "$tmp" migrate
$DP --data-dir "$tmp" ingest hf-daily demo/hf-daily
$DP --data-dir "$tmp" embed
$DP --data-dir "$tmp" embed --export demo/embeddings.npz
