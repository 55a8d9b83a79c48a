#!/usr/bin/env bash
# The GPU path, checked: `protect` throughput and the demo at the paper's scale with --device cuda, as JSON.
#
#   benchmarks/gpu_check.sh OUT_DIR             # needs a CUDA GPU; stops within TIME_LIMIT seconds
#   benchmarks/gpu_check.sh --dry-run OUT_DIR   # the same steps on the CPU at a tiny scale (checks the script)
#
# The scale, as variables (defaults: the README's paper-scale demo on Fashion-MNIST):
#   TRAIN_SIZE=0        images every victim trains on; 0 = half the 60k training set, the other half
#                       fits the new-images generator (the most the demo takes)
#   TEST_SIZE=0         test images; 0 = all 10k
#   VICTIM_EPOCHS=15    VICTIM_WIDTH=64 (ResNet-18 at its standard width)   METHODS=all five of the demo
#   TIME_LIMIT=540      seconds for everything: each step gets what is left and is killed at the end, so
#                       the check fits 10 minutes of GPU time; the demo writes its results as it goes,
#                       so a demo cut short still leaves the victims it finished
# Writes under OUT_DIR: gpu.json (the device), protect_throughput.json, demo/results.json (+ report.md
# when it finished), torchrun/ when the machine has 2 or more GPUs (train-generator data-parallel on
# all of them), and gpu_check.json: every step's command, exit code, seconds and main figures.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
export PYTHONPATH="$ROOT/src${PYTHONPATH:+:$PYTHONPATH}"     # this checkout, installed or not

DRY_RUN=0
if [ "${1:-}" = "--dry-run" ]; then DRY_RUN=1; shift; fi
if [ $# -ne 1 ]; then
  sed -n '2,5p' "$0" >&2
  exit 2
fi
OUT="$1"

if [ "$DRY_RUN" = 1 ]; then
  DEVICE=cpu
  : "${TRAIN_SIZE:=200}" "${TEST_SIZE:=200}" "${VICTIM_EPOCHS:=1}" "${VICTIM_WIDTH:=4}" "${TIME_LIMIT:=600}"
  : "${GENERATOR_EPOCHS:=1}" "${PROTECT_BATCH:=256}"
else
  DEVICE=cuda
  if ! python3 -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
    torch_build="$(python3 -c 'import torch; print(torch.__version__, "CUDA", torch.version.cuda)' 2>/dev/null \
      || echo 'no torch')"
    echo "gpu_check: no CUDA GPU visible to torch ($torch_build); run it on a GPU machine," \
         "or with --dry-run to check the script on the CPU" >&2
    exit 1
  fi
fi
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
: "${TRAIN_SIZE:=0}" "${TEST_SIZE:=0}" "${VICTIM_EPOCHS:=15}" "${VICTIM_WIDTH:=64}" "${TIME_LIMIT:=540}"
: "${GENERATOR_EPOCHS:=}" "${PROTECT_BATCH:=16384}"
: "${METHODS:=clean,classwise,emn,confoundergan,confoundergan-new}"

START=$(date +%s)
STEPS="$OUT/.steps"
: > "$STEPS"
left() { echo $(( TIME_LIMIT - ($(date +%s) - START) )); }

# step NAME JSON COMMAND...: run COMMAND with the seconds that are left, record its exit code and time.
step() {
  local name="$1" json="$2" rc=0 began remaining
  shift 2
  remaining=$(left)
  if [ "$remaining" -le 10 ]; then
    echo "gpu_check: no time left for $name" >&2
    printf '%s\t%s\t%s\t%s\t%s\n' "$name" 124 0 "$json" "$*" >> "$STEPS"
    return 0
  fi
  echo "== $name ($remaining s left)" >&2
  began=$(date +%s)
  timeout --kill-after=15 "$remaining" "$@" || rc=$?
  printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$rc" "$(( $(date +%s) - began ))" "$json" "$*" >> "$STEPS"
}

step device "$OUT/gpu.json" python3 - "$OUT/gpu.json" "$DEVICE" <<'PY'
import json, sys, torch
device = sys.argv[2]
info = {"device": device, "torch": torch.__version__, "cuda": torch.version.cuda}
if device == "cuda":
    info.update(gpus=[torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())],
                bf16=torch.cuda.is_bf16_supported(),
                memory_gib=torch.cuda.get_device_properties(0).total_memory / 2**30)
open(sys.argv[1], "w").write(json.dumps(info, indent=2))
PY

step protect_throughput "$OUT/protect_throughput.json" \
  python3 "$ROOT/benchmarks/protect_throughput.py" --device "$DEVICE" --batch "$PROTECT_BATCH" \
  --out "$OUT/protect_throughput.json"

GPUS=$(python3 -c 'import torch; print(torch.cuda.device_count())' 2>/dev/null || echo 0)
if [ "$DEVICE" = cuda ] && [ "$GPUS" -ge 2 ]; then
  # Data-parallel on every GPU: one process each, nccl (cli/data_parallel.py); at the demo's scale.
  step torchrun_train_generator "$OUT/torchrun/generator.safetensors" \
    python3 -m torch.distributed.run --standalone --nproc_per_node "$GPUS" -m imageprivacy train-generator \
    fashion-mnist --device cuda --out "$OUT/torchrun/generator.safetensors" --quiet
fi

demo_args=(--device "$DEVICE" --out "$OUT/demo" --train-size "$TRAIN_SIZE" --test-size "$TEST_SIZE"
           --victim-epochs "$VICTIM_EPOCHS" --victim-width "$VICTIM_WIDTH" --methods "$METHODS")
if [ -n "$GENERATOR_EPOCHS" ]; then demo_args+=(--generator-epochs "$GENERATOR_EPOCHS"); fi
step demo "$OUT/demo/results.json" python3 -m imageprivacy demo "${demo_args[@]}"

python3 - "$STEPS" "$OUT/gpu_check.json" "$TIME_LIMIT" "$DRY_RUN" <<'PY'
import json, sys
from pathlib import Path

steps = []
for line in Path(sys.argv[1]).read_text().splitlines():
    name, rc, seconds, output, command = line.split("\t")
    row = {"step": name, "exit_code": int(rc), "seconds": int(seconds), "output": output, "command": command,
           "timed_out": int(rc) in (124, 137)}
    path = Path(output)
    if path.suffix == ".json" and path.is_file():
        result = json.loads(path.read_text())
        if name == "protect_throughput":
            row["figures"] = {k: result[k] for k in ("images_per_second_32x32", "seconds_per_1024x1024_image")}
        elif name == "demo":
            row["figures"] = {f"{v['method']}/{v['recipe_name']}": {"final_test_acc": v["final_test_acc"],
                                                                     "seconds": v["seconds"]}
                              for v in result.get("victims", [])}
            row["figures"]["fit_seconds"] = {k: p["fit_seconds"] for k, p in result.get("protections", {}).items()}
        else:
            row["figures"] = result
    steps.append(row)
summary = {"check": "gpu_check", "dry_run": sys.argv[4] == "1", "time_limit_s": int(sys.argv[3]), "steps": steps,
           "passed": all(s["exit_code"] == 0 for s in steps)}
Path(sys.argv[2]).write_text(json.dumps(summary, indent=2))
print(json.dumps({s["step"]: s["exit_code"] for s in steps}))
print(f"summary: {sys.argv[2]}")
sys.exit(0 if summary["passed"] else 1)
PY
