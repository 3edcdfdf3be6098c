# qkdnet in a container: the same install steps as `make` (make install), with the C++ ns-3
# module compiled into the image so `docker run` starts simulating at once.
#
#   docker build -t qkdnet .
#   docker run --rm qkdnet demo
#   docker run --rm -v "$PWD/runs:/opt/qkdnet/runs" qkdnet run experiments/configs/six-node.yaml
FROM python:3.11-slim

# A C++ compiler (the qkd module is built against the ns3 wheel) and make (the install recipe).
RUN apt-get update \
    && apt-get install -y --no-install-recommends g++ make \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/qkdnet
COPY . .

# The module cache lives inside the image so the build below is reused at run time. PyTorch's
# CPU index supplies torch==2.13.0 without CUDA (the `make` recipe pins that version).
ENV QKDNET_CACHE_DIR=/opt/qkdnet/.qkdnet-cache \
    PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu \
    PIP_NO_CACHE_DIR=1

RUN make install VENV=/opt/venv

ENV PATH=/opt/venv/bin:$PATH
ENTRYPOINT ["qkdnet"]
CMD ["demo"]
