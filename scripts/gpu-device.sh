#!/bin/bash
# Runs on a lent GPU machine, from anywhere, with .cache/gpu-kit carried
# (built by scripts/gpu-kit.sh): unpacks the kit, puts the CUDA and cuDNN
# libraries of the machine's PyTorch wheels on LD_LIBRARY_PATH, and runs
# nodes/engine/ort's TestDevice on cuda (CPU fallback disabled: every
# node must run on the GPU) and on the CPU, comparing outputs and timing
# Runs of a generated Conv model and PP-OCRv4 at 512×512. The log goes to
# $OUT/device.log when $OUT is set. TestNativeCacheTarget logs the card's
# compute capability and name (part of the TensorRT engine-cache key).
set -u
kit="$(cd "$(dirname "$0")" && pwd)"
cd "$kit" || exit 1
for f in *.xz; do
	[ -e "${f%.xz}" ] && [ "${f%.xz}" -nt "$f" ] && continue
	xz -dkf "$f" 2>/dev/null || python3 -c "import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2],'wb'))" "$f" "${f%.xz}"
done
chmod +x ort.test
SP=$(python3 -c 'import site; print(site.getsitepackages()[0])' 2>/dev/null)
libs=""
for d in "$SP"/nvidia/cu13/lib "$SP"/nvidia/cudnn/lib "$SP"/nvidia/*/lib; do
	[ -d "$d" ] && libs="$libs:$d"
done
export LD_LIBRARY_PATH="${libs#:}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
export COMFYRT_ORT_LIB="$kit/libonnxruntime.so.1" COMFYRT_MODELS="$kit" COMFYRT_TEST_DEVICE="${COMFYRT_TEST_DEVICE:-cuda}"
log="${OUT:-$kit}/device.log"
timeout 400 ./ort.test -test.run 'TestDevice$|TestNativeCacheTarget$' -test.v 2>&1 | sed 's/\x1b\[[0-9;]*m//g' | tee "$log"
echo "ort.test exit: ${PIPESTATUS[0]}"
