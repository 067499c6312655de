#!/usr/bin/env bash
# A new voice's first audio as a user meets it: `voxclone voices add` in a fresh VOXCLONE_HOME
# (the installation's models and watermark graphs linked, the bundled Kokoro voices' scores
# copied), then the wall time of one `voxclone say` process from its start to the written file.
#   bench/first_use_cli.sh [RUNS]      (needs ../shared/eval-data; default 5 runs)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
PY=.venv/bin/python
SRC=${VOXCLONE_HOME:-$HOME/.local/share/voxclone}
CLIPS=$($PY -c "
from pathlib import Path
from voxclone.eval.bench_first_use import clips_of
print(' '.join(str(p) for p in clips_of(Path('../shared/eval-data/librispeech-other'))))")
for run in $(seq "$RUNS"); do
  HOME_DIR=$(mktemp -d)
  mkdir -p "$HOME_DIR/cache/kokoro-styles"
  ln -s "$(readlink -f "$SRC/models")" "$HOME_DIR/models"
  [ -d "$SRC/cache/perth" ] && ln -s "$(readlink -f "$SRC/cache/perth")" "$HOME_DIR/cache/perth"
  cp "$SRC"/cache/kokoro-styles/bundled-*.npz "$HOME_DIR/cache/kokoro-styles/" 2>/dev/null || true
  # shellcheck disable=SC2086
  VOXCLONE_HOME=$HOME_DIR .venv/bin/voxclone voices add new $CLIPS >/dev/null 2>&1
  start=$(date +%s.%N)
  VOXCLONE_HOME=$HOME_DIR .venv/bin/voxclone say "The birch canoe slid on the smooth planks." \
      --voice new -o "$HOME_DIR/out.wav" >/dev/null 2>&1
  end=$(date +%s.%N)
  echo "run $run: first audio after $(echo "$end - $start" | bc) s (load average $(cut -d' ' -f1 /proc/loadavg))"
  rm -rf "$HOME_DIR"
done
