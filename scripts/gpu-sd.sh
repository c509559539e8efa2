#!/usr/bin/env bash
# The `bench sd` suite (Stable Diffusion img2img: per-step overhead over the
# UNet's ONNX Runtime Runs, plan vs a plain Go loop) on the CPU and on the
# CUDA execution provider, on generated SD-shaped models: checkpoints/tiny
# (a 1×1 UNet) and checkpoints/sdlarge (SD's UNet signature over a 3×3
# convolution stack, real work per step). The comfyrt binary links FFmpeg,
# which the lent GPU machines lack, so the suite runs there as sdkit
# (internal/bench/sdkit: the same internal/bench/sdbench code, no FFmpeg).
#
#   bash scripts/gpu-sd.sh cpu    # here: build sdkit, generate the models,
#                                 # run the suite on the CPU, print the tables
#   bash scripts/gpu-sd.sh kit    # here: .cache/gpu-sd-kit (~52 MiB): sdkit,
#                                 # ORT 1.29.0 with its CUDA provider (from
#                                 # scripts/gpu-kit.sh, run first if needed),
#                                 # this script
#   bash .cache/gpu-sd-kit/gpu-sd.sh   # on the GPU machine (carry
#                                 # .cache/gpu-sd-kit): unpack, generate the
#                                 # models, run the suite on cpu and cuda,
#                                 # print per-step times and cpu/cuda ratios;
#                                 # logs and JSON in $OUT (else the kit)
#
# Knobs (environment): FRAMES, WARMUP, ROUNDS (tiny; sdlarge uses a fifth of
# FRAMES on the CPU), THREADS (ORT intra-op on the CPU; default: every core
# on the GPU machine, 2 here), SIZE (512), STEPS (1,4), SAMPLERS (lcm,euler),
# CFG (1,7).
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
say() { echo "gpu-sd: $*" >&2; }

FRAMES=${FRAMES:-50} WARMUP=${WARMUP:-10} ROUNDS=${ROUNDS:-3}
SIZE=${SIZE:-512} STEPS=${STEPS:-1,4} SAMPLERS=${SAMPLERS:-lcm,euler} CFG=${CFG:-1,7}

# suite SDKIT MODELS CHECKPOINT DEVICE THREADS FRAMES WARMUP OUTDIR: one run, table on stdout.
suite() {
	local json="$8/$3-$4.json"
	say "$3 on $4 ($6 frames, $7 warm-up, $ROUNDS rounds, $5 threads)"
	timeout 500 "$1" bench -models "$2" -checkpoint "$3" -device "$4" -threads "$5" -frames "$6" -warmup "$7" \
		-rounds "$ROUNDS" -size "$SIZE" -steps "$STEPS" -samplers "$SAMPLERS" -cfg "$CFG" -json "$json" 2>"$8/$3-$4.log"
	local rc=$?
	[ $rc -eq 0 ] || { say "$3 on $4 failed (exit $rc):"; tail -5 "$8/$3-$4.log" >&2; }
	return $rc
}

# compare OUTDIR CHECKPOINT...: per case, the step time on cpu and cuda and their ratio.
compare() {
	local out=$1
	shift
	python3 - "$out" "$@" <<'PY'
import json, os, sys
out = sys.argv[1]
for ck in sys.argv[2:]:
    runs = {}
    for dev in ("cpu", "cuda"):
        p = os.path.join(out, f"{ck}-{dev}.json")
        if os.path.exists(p):
            runs[dev] = {(c["sampler"], c["cfg"], c["steps"]): c for c in json.load(open(p))["cases"]}
    if len(runs) < 2:
        print(f"{ck}: no cpu/cuda pair to compare")
        continue
    print(f"\n{ck}: per denoising step (KSampler time), cpu vs cuda")
    print(f"{'sampler':<16}{'cfg':>5}{'steps':>6}{'cpu µs':>12}{'cuda µs':>12}{'cpu/cuda':>10}{'cuda over µs':>14}{'cuda plan ms':>14}{'cuda ratio':>12}")
    for k, c in runs["cpu"].items():
        g = runs["cuda"].get(k)
        if not g:
            continue
        r = c["step_us"] / g["step_us"] if g["step_us"] else float("nan")
        print(f"{k[0]:<16}{k[1]:>5g}{k[2]:>6}{c['step_us']:>12.1f}{g['step_us']:>12.1f}{r:>10.2f}{g['step_over_us']:>14.1f}{g['plan_ms']:>14.3f}{g['ratio']:>12.3f}")
PY
}

build_sdkit() { # here: build sdkit into $1
	command -v go >/dev/null || { say "missing go"; exit 1; }
	(cd "$here/.." && go build -ldflags='-s -w' -o "$1" ./internal/bench/sdkit) || exit 1
}

cpu_here() {
	local root
	root="$(cd "$here/.." && pwd)"
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
	build_sdkit "$work/sdkit"
	export COMFYRT_ORT_LIB=${COMFYRT_ORT_LIB:-$(ls "$root"/.cache/ort/libonnxruntime.so.* 2>/dev/null | head -1)}
	[ -n "$COMFYRT_ORT_LIB" ] || { say "no ONNX Runtime in .cache/ort: run scripts/setup.sh"; exit 1; }
	"$work/sdkit" models -o "$work/models" -large || exit 1
	local out=${OUT:-$work} th=${THREADS:-2} fail=0
	suite "$work/sdkit" "$work/models" tiny cpu "$th" "$FRAMES" "$WARMUP" "$out" || fail=1
	suite "$work/sdkit" "$work/models" sdlarge cpu "$th" $((FRAMES / 5 > 0 ? FRAMES / 5 : 1)) 2 "$out" || fail=1
	return $fail
}

make_kit() {
	local root kit gk
	root="$(cd "$here/.." && pwd)"
	kit="$root/.cache/gpu-sd-kit" gk="$root/.cache/gpu-kit"
	if [ ! -f "$gk/libonnxruntime_providers_cuda.so.xz" ]; then
		say "building .cache/gpu-kit first (ONNX Runtime with CUDA)"
		bash "$root/scripts/gpu-kit.sh" || exit 1
	fi
	mkdir -p "$kit"
	for f in libonnxruntime.so.1 libonnxruntime_providers_shared.so libonnxruntime_providers_cuda.so; do
		cp -p "$gk/$f.xz" "$kit/$f.xz"
	done
	build_sdkit "$kit/sdkit"
	xz -T0 -6 -f "$kit/sdkit"
	cp "$root/scripts/gpu-sd.sh" "$kit/gpu-sd.sh"
	du -cb "$kit"/* | tail -1 | awk '{printf "gpu-sd: %s ready, %.1f MiB\n", "'"$kit"'", $1/1048576}' >&2
}

# run_there: in the kit folder on the GPU machine.
run_there() {
	cd "$here" || exit 1
	for f in *.xz; do
		[ -e "${f%.xz}" ] && [ "${f%.xz}" -nt "$f" ] && continue
		xz -dkf "$f" 2>/dev/null || python3 -c "import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2],'wb'))" "$f" "${f%.xz}"
	done
	chmod +x sdkit
	local sp libs="" out=${OUT:-$here} th=${THREADS:-$(nproc)}
	sp=$(python3 -c 'import site; print(site.getsitepackages()[0])' 2>/dev/null)
	for d in "$sp"/nvidia/cu13/lib "$sp"/nvidia/cudnn/lib "$sp"/nvidia/*/lib; do
		[ -d "$d" ] && libs="$libs:$d"
	done
	export LD_LIBRARY_PATH="${libs#:}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
	export COMFYRT_ORT_LIB="$here/libonnxruntime.so.1"
	nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
	local models
	models=$(mktemp -d)
	./sdkit models -o "$models" -large || exit 1
	local small=$((FRAMES / 5 > 0 ? FRAMES / 5 : 1))
	# The suites' failures are counted in a file: the block runs in a
	# subshell of the pipe, and the pipe's status is tee's.
	local failed="$out/gpu-sd.failed"
	rm -f "$failed"
	{
		suite ./sdkit "$models" tiny cuda 1 "$FRAMES" "$WARMUP" "$out" || echo tiny-cuda >>"$failed"
		suite ./sdkit "$models" tiny cpu "$th" "$FRAMES" "$WARMUP" "$out" || echo tiny-cpu >>"$failed"
		suite ./sdkit "$models" sdlarge cuda 1 "$FRAMES" "$WARMUP" "$out" || echo sdlarge-cuda >>"$failed"
		suite ./sdkit "$models" sdlarge cpu "$th" "$small" 2 "$out" || echo sdlarge-cpu >>"$failed"
		compare "$out" tiny sdlarge
	} 2>&1 | tee "$out/gpu-sd.log"
	if [ -s "$failed" ]; then
		say "failed: $(tr '\n' ' ' <"$failed")"
		exit 1
	fi
}

case "${1:-}" in
cpu) cpu_here ;;
kit) make_kit ;;
"")
	if [ -f "$here/sdkit.xz" ] || [ -f "$here/sdkit" ]; then
		run_there
	else
		say "usage: bash scripts/gpu-sd.sh cpu|kit; on the GPU machine: bash .cache/gpu-sd-kit/gpu-sd.sh"
		exit 2
	fi
	;;
*)
	say "usage: bash scripts/gpu-sd.sh cpu|kit; on the GPU machine: bash .cache/gpu-sd-kit/gpu-sd.sh"
	exit 2
	;;
esac
