# Podman settings shared by scripts/image-check.sh and scripts/ray-cluster.sh (sourced, not run).
#
# Why these flags: on machines like the project's (no registry reachable, a sandbox that forbids
# raising rlimits), the default runtime crun fails with `setrlimit RLIMIT_NOFILE: Operation not
# permitted`; runc with explicit ulimits works, and containers share the host network. Builds
# use chroot isolation and see the host's CA bundle and pip configuration, read-only, so pip
# inside the build reaches the package registry the same way pip on the host does.

QKDNET_IMAGE=${QKDNET_IMAGE:-localhost/qkdnet:latest}
QKDNET_BASE_IMAGE=${QKDNET_BASE_IMAGE:-localhost/debian-py311:bookworm}
QKDNET_IMAGE_CACHE=${QKDNET_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/qkdnet-image}
# A folder holding torch-2.13.0+cpu wheels; when present the build installs torch from it
# instead of PyTorch's CPU index (which this kind of machine cannot reach).
QKDNET_TORCH_WHEELS=${QKDNET_TORCH_WHEELS:-/opt/wheels}
# The image's unprivileged user: host folders mounted for output must be writable by this uid.
QKDNET_IMAGE_UID=1000

PODMAN=(podman --runtime runc)
PODMAN_RUN=("${PODMAN[@]}" run --ulimit nofile=10000:10000 --ulimit nproc=1000:1000
    --network host)

# Build arguments and read-only mounts that make the Dockerfile build on this machine.
podman_build_args() {
    local args=(--isolation=chroot --network host --build-arg "BASE_IMAGE=$QKDNET_BASE_IMAGE")
    [[ -d /etc/ssl/certs ]] && args+=(-v /etc/ssl/certs:/etc/ssl/certs:ro)
    [[ -f /etc/pip.conf ]] && args+=(-v /etc/pip.conf:/etc/pip.conf:ro)
    if compgen -G "$QKDNET_TORCH_WHEELS/torch-2.13.0+cpu-*.whl" >/dev/null; then
        args+=(-v "$QKDNET_TORCH_WHEELS:/opt/torch-wheels:ro"
            --build-arg "TORCH_PIP_ARGS=--find-links /opt/torch-wheels")
    fi
    printf '%s\n' "${args[@]}"
}

# A host folder the image's user can write into (created if missing).
writable_output_dir() {
    mkdir -p "$1"
    if [[ $(id -u) == 0 ]]; then
        chown "$QKDNET_IMAGE_UID:$QKDNET_IMAGE_UID" "$1"
    fi
}
