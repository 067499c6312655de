#!/usr/bin/env bash
# A short CPU training run of the codec LM on ../shared/eval-data (English sets), embedded
# WORLD-RVQ codec, niced. Writes out/codec-lm-dev/{data,run}; prints the run summary.
# Usage: bench/codec_lm_dev_run.sh [STEPS] [BATCH_FRAMES]   (about 15 min on 2 busy cores)
set -euo pipefail
STEPS=${1:-200}
BATCH=${2:-500}
EVAL=${EVAL:-../shared/eval-data}
OUT=out/codec-lm-dev
PY=${PY:-python}
export OMP_NUM_THREADS=1
nice -n 10 $PY -m voxclone.cli.main dataset prepare "$EVAL/ljspeech" "$EVAL/vctk" \
  "$EVAL/librispeech-other" --out "$OUT/data"
$PY -m voxclone.cli.main train config -o "$OUT/exp.yaml" --data "$OUT/data" --out "$OUT/run" \
  --size small --steps "$STEPS" --batch-frames "$BATCH" --lr 1e-3 \
  --set codec.fit_seconds=300 --set codec.n_codes=512 --set optim.warmup_steps=20 \
  --set scheduled_sampling.end=0.8 --set monitor.val_every=50 --set monitor.sample_every=100 \
  --set save_every=50 --set monitor.log_every=5
time nice -n 10 $PY -m voxclone.cli.main train codec-lm --config "$OUT/exp.yaml" --device cpu
$PY -m voxclone.train.summary "$OUT/run" "$OUT/data"
