# qkdnet in a container: the same install steps as `make install`, the C++ ns-3 module compiled in
# a builder stage, and a final image that runs as an unprivileged user and loads that module.
#
#   docker build -t qkdnet .
#   docker run --rm qkdnet demo
#   mkdir -p runs && docker run --rm -v "$PWD/runs:/runs" qkdnet \
#       run experiments/configs/six-node.yaml --out /runs/six-node
#
# Build arguments (the defaults are the public ones; scripts/image-check.sh passes local ones):
#   BASE_IMAGE      a Debian-based image with python3 (>= 3.11), python3-venv and pip
#   TORCH_PIP_ARGS  where pip finds torch==2.13.0 (default: PyTorch's CPU-only index)
#   QKDNET_EXTRAS   optional dependency groups to install ("ray" brings Ray for sweeps)
ARG BASE_IMAGE=python:3.11-slim

FROM ${BASE_IMAGE} AS builder
ARG TORCH_PIP_ARGS="--extra-index-url https://download.pytorch.org/whl/cpu"
ARG QKDNET_EXTRAS=ray

# A C++ compiler (the qkd module is built against the ns3 wheel), make (the install recipe) and,
# where the base lacks them, Python's headers (CPyCppyy, under the ns3 wheel, builds from source).
RUN apt-get update \
    && apt-get install -y --no-install-recommends g++ make \
    && if ! python3 -c "import sysconfig, os, sys; \
sys.exit(not os.path.isfile(os.path.join(sysconfig.get_paths()['include'], 'Python.h')))"; \
       then apt-get install -y --no-install-recommends python3-dev; fi \
    && rm -rf /var/lib/apt/lists/*

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    QKDNET_CACHE_DIR=/opt/qkdnet-cache
WORKDIR /opt/qkdnet

# Dependencies first, from pyproject.toml alone, so that editing the code reuses these layers.
# torch goes in on its own (as in the Makefile) so nothing else can pull a CUDA build.
RUN python3 -m venv /opt/venv \
    && /opt/venv/bin/pip install --quiet ${TORCH_PIP_ARGS} torch==2.13.0
COPY pyproject.toml ./
RUN /opt/venv/bin/python -c "import subprocess, sys, tomllib; \
p = tomllib.load(open('pyproject.toml', 'rb'))['project']; \
extras = [e for e in sys.argv[1].split(',') if e]; \
deps = p['dependencies'] + [d for e in extras for d in p['optional-dependencies'][e]]; \
subprocess.check_call([sys.executable, '-m', 'pip', 'install', '--quiet', *deps])" "${QKDNET_EXTRAS}"

# The project itself, exactly as `make install` does it (editable install + module build), then
# the finished module build moves to a fixed place the runtime loads without a compiler.
COPY . .
RUN make install VENV=/opt/venv \
    && if [ -n "${QKDNET_EXTRAS}" ]; then /opt/venv/bin/pip install --quiet -e ".[${QKDNET_EXTRAS}]"; fi \
    && for build in /opt/qkdnet-cache/ns3-qkd-*/; do mv "$build" /opt/qkdnet-module; done \
    && rm -rf /opt/qkdnet-cache
# One short run: checks the module loads, and makes cppyy write its precompiled header into the
# venv now (the runtime user cannot write there).
RUN QKDNET_MODULE_DIR=/opt/qkdnet-module /opt/venv/bin/qkdnet demo --steps 1 >/dev/null

FROM ${BASE_IMAGE} AS runtime
# g++ stays, for cppyy rather than for us: at every start its C++ interpreter (cling) asks
# `c++ -xc++ -E -v` where the standard headers are, and aborts without a compiler ("cannot
# extract standard library include paths"). make, Python's headers and all build trees stay in
# the builder stage; the qkd module is loaded prebuilt and never compiled here.
RUN apt-get update \
    && apt-get install -y --no-install-recommends g++ \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 1000 --shell /bin/bash qkdnet
COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /opt/qkdnet-module /opt/qkdnet-module
COPY --from=builder /opt/qkdnet /opt/qkdnet
ENV PATH=/opt/venv/bin:$PATH \
    QKDNET_MODULE_DIR=/opt/qkdnet-module \
    PYTHONUNBUFFERED=1
WORKDIR /opt/qkdnet
USER qkdnet
ENTRYPOINT ["qkdnet"]
CMD ["demo"]
