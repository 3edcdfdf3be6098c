#!/usr/bin/env bash
# `make image-check`: build the qkdnet image with Podman on a machine like the project's and run
# it for real, printing one line per step with its time. Run this before saying the image works.
#
#   1. base       a local Debian base image (mmdebstrap, ~3.5 min) unless it is already there
#   2. build      the Dockerfile, with the local base and local torch wheel as build arguments
#   3. demo       `qkdnet demo` inside the image
#   4. run        a short `qkdnet run` writing Parquet into a host folder mounted at /runs
#   5. reproduce  the quick reproduction (skipped, with a line saying so, if the image lacks it)
#
# Needs: podman, runc, mmdebstrap (apt-get install -y podman runc mmdebstrap). Not part of
# `make test`: it takes minutes. Logs of every step go to $OUT/logs.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/podman-env.sh

OUT=${OUT:-$PWD/runs/image-check}
LOGS=$OUT/logs
NICE=(nice -n "${NICE_LEVEL:-10}")
mkdir -p "$LOGS"
writable_output_dir "$OUT/data"
START=$SECONDS

step_line() { # name, seconds, text
    printf '[image-check] %-9s %7.1f s  %s\n' "$1" "$2" "$3"
}

fail() { # name, log, message
    echo "[image-check] $1 FAILED: $3 (log: $2); its last lines:" >&2
    tail -n 25 "$2" >&2
    exit 1
}

timed() { # name, log, command...: run with output to the log; sets ELAPSED (seconds, 0.1)
    local name=$1 log=$2 t0=${EPOCHREALTIME/./} status=0
    shift 2
    "$@" >"$log" 2>&1 || status=$?
    local tenths=$(((${EPOCHREALTIME/./} - t0) / 100000))
    ELAPSED=$((tenths / 10)).$((tenths % 10))
    ((status == 0)) || fail "$name" "$log" "exit status $status after $ELAPSED s"
}

for tool in podman runc mmdebstrap; do
    command -v "$tool" >/dev/null || {
        echo "[image-check] needs $tool: apt-get install -y podman runc mmdebstrap" >&2
        exit 1
    }
done

# 1. base
if podman image exists "$QKDNET_BASE_IMAGE"; then
    step_line base 0 "$QKDNET_BASE_IMAGE already present"
else
    mkdir -p "$QKDNET_IMAGE_CACHE"
    tar=$QKDNET_IMAGE_CACHE/debian-py311-bookworm.tar
    make_base() {
        if [[ ! -s $tar ]]; then
            "${NICE[@]}" mmdebstrap --variant=minbase \
                --include=python3,python3-venv,python3-pip,ca-certificates \
                bookworm "$tar.partial" && mv "$tar.partial" "$tar"
        fi
        podman import "$tar" "$QKDNET_BASE_IMAGE"
    }
    timed base "$LOGS/base.log" make_base
    step_line base "$ELAPSED" "built $QKDNET_BASE_IMAGE (mmdebstrap minbase + python3)"
fi

# 2. build
mapfile -t build_args < <(podman_build_args)
timed build "$LOGS/build.log" "${NICE[@]}" "${PODMAN[@]}" build "${build_args[@]}" \
    -t "$QKDNET_IMAGE" .
size_bytes=$(podman image inspect --format '{{.Size}}' "$QKDNET_IMAGE")
user=$("${PODMAN_RUN[@]}" --rm --entrypoint id "$QKDNET_IMAGE" -un)
step_line build "$ELAPSED" "$QKDNET_IMAGE, $((size_bytes / 1000000)) MB, runs as user $user"

# 3. demo
timed demo "$LOGS/demo.log" "${NICE[@]}" "${PODMAN_RUN[@]}" --rm "$QKDNET_IMAGE" demo
step_line demo "$ELAPSED" "$(grep -c . "$LOGS/demo.log") lines of output, exit 0"

# 4. run: Parquet must appear on the host
rm -rf "$OUT/data/run"
timed run "$LOGS/run.log" "${NICE[@]}" "${PODMAN_RUN[@]}" --rm -v "$OUT/data:/runs" \
    "$QKDNET_IMAGE" run experiments/configs/six-node.yaml --steps "${RUN_STEPS:-20}" \
    --out /runs/run
parquet=$(find "$OUT/data/run" -name '*.parquet' | wc -l)
((parquet > 0)) || fail run "$LOGS/run.log" "no Parquet file appeared in $OUT/data/run"
step_line run "$ELAPSED" "six-node.yaml, ${RUN_STEPS:-20} steps: $parquet Parquet files in $OUT/data/run"

# 5. quick reproduction, once the image has the command
if "${PODMAN_RUN[@]}" --rm "$QKDNET_IMAGE" reproduce --help >/dev/null 2>&1; then
    rm -rf "$OUT/data/reproduce"
    timed reproduce "$LOGS/reproduce.log" "${NICE[@]}" "${PODMAN_RUN[@]}" --rm \
        -v "$OUT/data:/runs" "$QKDNET_IMAGE" reproduce --profile quick --workers 2 --out /runs/reproduce
    step_line reproduce "$ELAPSED" "quick reproduction in $OUT/data/reproduce"
else
    step_line reproduce 0 "skipped: this image has no \`qkdnet reproduce\` command yet"
fi

step_line total "$((SECONDS - START))" "image $QKDNET_IMAGE works"
