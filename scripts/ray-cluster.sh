#!/usr/bin/env bash
# A Ray cluster of qkdnet containers on one machine, with Podman (compose.yaml is the Docker
# equivalent). Every container runs the same image and mounts the same host folder at /runs, so
# sweep results written by any worker land in that folder.
#
#   scripts/ray-cluster.sh up [WORKERS]       head + WORKERS workers (default 2)
#   scripts/ray-cluster.sh status             `ray status` of the cluster
#   scripts/ray-cluster.sh sweep SPEC NAME    `qkdnet sweep SPEC --executor ray` into /runs/NAME
#   scripts/ray-cluster.sh local SPEC NAME    the same sweep on a local pool in one container
#   scripts/ray-cluster.sh down               stop and remove the containers
#   scripts/ray-cluster.sh check [SPEC]       up 2, ray sweep, local sweep, compare tables, down
#
# SPEC is a path inside the image (the repository is at /opt/qkdnet, the working directory) or
# under /runs (the mounted folder). Containers share the host network (see podman-env.sh), so
# each node gets its own port ranges; the head offers no CPUs, so every task runs on a worker.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/podman-env.sh

RAY_DATA=${RAY_DATA:-$PWD/runs/ray-cluster}
RAY_PORT=${RAY_PORT:-26379}
ADDRESS=127.0.0.1:$RAY_PORT
PREFIX=qkdnet-ray
NICE=(nice -n "${NICE_LEVEL:-10}")
DEFAULT_SPEC=${DEFAULT_SPEC:-scripts/cluster-check-sweep.yaml}

node_args() { # index (0 = head): ports that do not collide with other nodes on the host network
    local i=$1
    echo --node-ip-address=127.0.0.1 --disable-usage-stats --object-store-memory=100000000 \
        --min-worker-port=$((20000 + 1000 * i)) --max-worker-port=$((20999 + 1000 * i)) \
        --node-manager-port=$((19000 + 10 * i)) --object-manager-port=$((19001 + 10 * i)) \
        --runtime-env-agent-port=$((19002 + 10 * i)) --metrics-export-port=$((19003 + 10 * i)) \
        --dashboard-agent-grpc-port=$((19004 + 10 * i)) \
        --dashboard-agent-listen-port=$((19005 + 10 * i))
}

start_node() { # name, index, ray start arguments...
    local name=$1 index=$2
    shift 2
    # shellcheck disable=SC2046  # node_args is a list of words
    "${PODMAN_RUN[@]}" -d --name "$name" --shm-size=256m -v "$RAY_DATA:/runs" \
        --entrypoint ray "$QKDNET_IMAGE" start --block "$@" $(node_args "$index") >/dev/null
}

nodes_alive() {
    "${PODMAN[@]}" exec "$PREFIX-head" python -c "import ray; ray.init(address='$ADDRESS', \
logging_level='ERROR'); print(sum(n['Alive'] for n in ray.nodes()))" 2>/dev/null | tail -n 1
}

up() {
    local workers=${1:-2}
    writable_output_dir "$RAY_DATA"
    start_node "$PREFIX-head" 0 --head --port="$RAY_PORT" --num-cpus=0 --include-dashboard=false
    for ((i = 1; i <= workers; i++)); do
        start_node "$PREFIX-worker-$i" "$i" --address="$ADDRESS" --num-cpus=1
    done
    local want=$((workers + 1)) alive=0
    for _ in $(seq 1 120); do
        alive=$(nodes_alive || true)
        [[ $alive == "$want" ]] && break
        sleep 2
    done
    if [[ $alive != "$want" ]]; then
        echo "ray-cluster: only ${alive:-0} of $want nodes came up; logs: podman logs $PREFIX-head" >&2
        return 1
    fi
    echo "ray-cluster: head + $workers workers up at $ADDRESS, results in $RAY_DATA"
}

down() {
    local names
    names=$(podman ps -a --format '{{.Names}}' | grep "^$PREFIX-" || true)
    [[ -z $names ]] || "${PODMAN[@]}" rm -f -t 5 $names >/dev/null
    echo "ray-cluster: stopped"
}

tasks_per_node() { # how many sweep tasks each container's Ray workers ran (from their logs)
    local name count
    for name in $(podman ps --format '{{.Names}}' | grep "^$PREFIX-" | sort); do
        count=$("${PODMAN[@]}" exec "$name" sh -c \
            'cat /tmp/ray/session_latest/logs/worker-*.out 2>/dev/null | grep -c ":task_name:run_task"' \
            || true)
        echo "[ray-cluster] $name ran ${count:-0} tasks"
    done
}

status() {
    "${PODMAN[@]}" exec "$PREFIX-head" ray status --address "$ADDRESS"
}

ray_sweep() { # SPEC NAME extra qkdnet sweep args...: the driver runs in the head container
    # (a Ray driver must sit on a node of the cluster: it talks to its node's raylet through
    # that container's own files; of several nodes on one host Ray picks the head)
    local spec=$1 name=$2
    shift 2
    "${NICE[@]}" "${PODMAN[@]}" exec "$PREFIX-head" \
        qkdnet sweep "$spec" --out "/runs/$name" --executor ray --address "$ADDRESS" "$@"
}

local_sweep() { # SPEC NAME extra qkdnet sweep args...: a local process pool in one container
    local spec=$1 name=$2
    shift 2
    writable_output_dir "$RAY_DATA"
    "${NICE[@]}" "${PODMAN_RUN[@]}" --rm -v "$RAY_DATA:/runs" "$QKDNET_IMAGE" \
        sweep "$spec" --out "/runs/$name" --executor local "$@"
}

check() { # the three-container cluster runs a sweep whose table matches the local pool's
    local spec=${1:-$DEFAULT_SPEC} t0
    if ! "${PODMAN_RUN[@]}" --rm "$QKDNET_IMAGE" sweep --help >/dev/null 2>&1; then
        echo "[ray-cluster] skipped: this image has no \`qkdnet sweep\` command yet"
        return 0
    fi
    rm -rf "$RAY_DATA/check-ray" "$RAY_DATA/check-local"
    t0=$SECONDS
    down >/dev/null
    up 2
    echo "[ray-cluster] up      $((SECONDS - t0)) s  head + 2 workers"
    trap down EXIT
    t0=$SECONDS
    ray_sweep "$spec" check-ray
    echo "[ray-cluster] ray     $((SECONDS - t0)) s  $spec on the cluster -> $RAY_DATA/check-ray"
    tasks_per_node
    t0=$SECONDS
    local_sweep "$spec" check-local --workers 2
    echo "[ray-cluster] local   $((SECONDS - t0)) s  $spec on a local pool -> $RAY_DATA/check-local"
    "${PODMAN_RUN[@]}" --rm -v "$RAY_DATA:/runs" --entrypoint python "$QKDNET_IMAGE" \
        scripts/compare_sweep_tables.py /runs/check-ray /runs/check-local
}

case ${1:-} in
up) up "${2:-2}" ;;
down) down ;;
status) status ;;
sweep) ray_sweep "$2" "$3" "${@:4}" ;;
local) local_sweep "$2" "$3" --workers "${WORKERS:-2}" "${@:4}" ;;
check) check "${2:-}" ;;
*)
    sed -n '2,16p' "$0" >&2
    exit 2
    ;;
esac
