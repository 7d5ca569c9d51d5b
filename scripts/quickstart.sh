#!/usr/bin/env bash
# quickstart.sh: installs the dependencies, builds, and runs the main job on
# the built-in default: the weight-free `hash` model over the demo tasks
# (one per task type), printing a results table. Results land in results/.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./build/cmteb run --model hash --benchmark demo --output results "$@"
