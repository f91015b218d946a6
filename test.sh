#!/usr/bin/env bash
# The test command: makes .venv on first use (path.sh), then runs the whole suite on the CPU.
# Extra arguments go to pytest, e.g. ./test.sh -x -k metrics
set -euo pipefail
cd "$(dirname "$0")"
. ./path.sh
exec python -m pytest -q -p no:cacheprovider tests "$@"
