#!/usr/bin/env bash
# Builds, on a machine with the npm registry, the folder a lent GPU machine
# needs for comfyrt's device checks: .cache/gpu-kit/ with
#   - ONNX Runtime 1.29.0 built with CUDA support (npm onnxruntime-node),
#   - its shared and CUDA provider libraries (npm
#     com.github.asus4.onnxruntime.linux-x64-gpu 0.4.9, the same ORT commit),
#     the CUDA one pruned to sm_90 (H100/H200) so that the kit fits one
#     device call (64 MiB with the working tree),
#   - the compiled test binary of nodes/engine/ort (TestDevice),
#   - the PP-OCRv4 detection model (from scripts/setup.sh),
#   - device.sh (scripts/gpu-device.sh), which runs on the GPU machine.
# Both npm packages are pinned by version and sha256. Then, on the GPU
# machine: bash .cache/gpu-kit/device.sh, carrying .cache/gpu-kit.
# Idempotent; about 300 MB of downloads the first time.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
kit="$root/.cache/gpu-kit"
work="$root/.cache/gpu-kit-build"
prune="$root/../shared/tools/gpu-ort-kit/prune_fatbin.py"
core_pkg=onnxruntime-node@1.29.0
core_tgz=onnxruntime-node-1.29.0.tgz
core_sha=cfdfb45ec4044b1fdca43e5d2e180fb6817e649ff8ad1e0dfc90e18e51b67037
prov_pkg=com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9
prov_tgz=com.github.asus4.onnxruntime.linux-x64-gpu-0.4.9.tgz
prov_sha=2b459e0c17f340c92970c10ed86de4f37a3009f93c14053e6ad4334cbb6be412

say() { echo "gpu-kit: $*" >&2; }
[ -f "$prune" ] || { say "missing $prune (the workplace's gpu-ort-kit)"; exit 1; }
for tool in npm xz python3 go sha256sum; do
	command -v "$tool" >/dev/null || { say "missing $tool"; exit 1; }
done
model="$root/.cache/models/ch_PP-OCRv4_det_infer.onnx"
[ -f "$model" ] || { say "missing $model: run scripts/setup.sh first"; exit 1; }

mkdir -p "$kit" "$work"
fetch() { # package tgz sha256
	if [ -f "$work/$2" ] && echo "$3  $work/$2" | sha256sum -c --status; then return; fi
	say "fetching $1"
	(cd "$work" && npm pack --silent "$1" >/dev/null)
	echo "$3  $work/$2" | sha256sum -c --status || { say "$2: sha256 mismatch"; rm -f "$work/$2"; exit 1; }
}
fetch "$core_pkg" "$core_tgz" "$core_sha"
fetch "$prov_pkg" "$prov_tgz" "$prov_sha"

pack() { # source name-in-kit: xz-compress into the kit unless up to date
	if [ ! -f "$kit/$2.xz" ] || [ "$1" -nt "$kit/$2.xz" ]; then
		say "compressing $2"
		xz -T0 -6 -c "$1" > "$kit/$2.xz.tmp" && mv "$kit/$2.xz.tmp" "$kit/$2.xz"
	fi
}
if [ ! -f "$work/libonnxruntime.so.1" ]; then
	tar -xzf "$work/$core_tgz" -C "$work" --strip-components=5 package/bin/napi-v6/linux/x64/libonnxruntime.so.1
fi
if [ ! -f "$work/libonnxruntime_providers_cuda.sm90.so" ]; then
	tar -xzf "$work/$prov_tgz" -C "$work" --strip-components=4 \
		package/Plugins/Linux/x64/libonnxruntime_providers_cuda.so package/Plugins/Linux/x64/libonnxruntime_providers_shared.so
	say "pruning the CUDA provider to sm_90"
	python3 "$prune" "$work/libonnxruntime_providers_cuda.so" "$work/libonnxruntime_providers_cuda.sm90.so" 90 >&2
	rm -f "$work/libonnxruntime_providers_cuda.so"
fi
pack "$work/libonnxruntime.so.1" libonnxruntime.so.1
pack "$work/libonnxruntime_providers_shared.so" libonnxruntime_providers_shared.so
pack "$work/libonnxruntime_providers_cuda.sm90.so" libonnxruntime_providers_cuda.so
say "building the ort test binary"
(cd "$root" && go test -c -ldflags='-s -w' -o "$work/ort.test" ./nodes/engine/ort)
pack "$work/ort.test" ort.test
pack "$model" ch_PP-OCRv4_det_infer.onnx
cp "$root/scripts/gpu-device.sh" "$kit/device.sh"
du -cb "$kit"/* | tail -1 | awk '{printf "gpu-kit: %s ready, %.1f MiB\n", "'"$kit"'", $1/1048576}' >&2
