#!/usr/bin/env bash
# Benchmarks taizhang against Splink and recordlinkage on generated rounds.
# Usage: bench/run.sh [--sizes 2000,30000,300000] [--timeout 1800] [--peers splink,recordlinkage]
#                     [--previous OLDER_TAIZHANG_BINARY] [--csv] [--hard]
set -euo pipefail
cd "$(dirname "$0")/.."
command -v /usr/bin/time >/dev/null || apt-get install -y time
if [ ! -x bench/.venv/bin/python ]; then
  python3 -m venv bench/.venv
fi
bench/.venv/bin/pip install -q -r bench/requirements.txt
cargo build --release --bin taizhang --example gen_round --example bench_read
exec bench/.venv/bin/python bench/run.py "$@"
