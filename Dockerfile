# syntax=docker/dockerfile:1
#
# The qbank API image: the model exported to ONNX at build time, served
# without torch, the banks in content/ indexed at build time, run as a
# non-root user.
#
#   docker compose build        (or: docker build -t qbank .)
#
# Two stages.  "build" installs what `make setup` installs, in the same order
# (a venv, pip upgraded, torch==2.13.0 FIRST, then qbank with its export
# extra; the test extra aside) and runs `qbank export`: the ONNX graphs, fp32
# and int8, with their tokenizer.  It also makes the serving venv: qbank alone,
# whose dependencies hold no torch.  "runtime" takes that venv and the export,
# and indexes content/ with them, which proves at build time that ingest and
# serving run without torch.  tests/test_deploy.py parses this file and the
# Makefile and fails if they drift.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# torch first, from PyTorch's CPU wheel index: asked of PyPI, torch==2.13.0
# resolves to the CUDA build and drags in several GB of nvidia-* wheels.
# (On the project's own machines `make setup` gets the same CPU build from
# local disk, so the Makefile passes no index URL.)  Point TORCH_INDEX_URL at
# a mirror of that index if the build network cannot reach it.
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
# hadolint ignore=DL3013
RUN python3 -m venv /opt/export \
 && /opt/export/bin/pip install --no-cache-dir --upgrade pip \
 && /opt/export/bin/pip install --no-cache-dir --index-url "${TORCH_INDEX_URL}" torch==2.13.0

# Then qbank with the export extra; torch==2.13.0 is already satisfied, so nothing pulls CUDA.
WORKDIR /src
COPY pyproject.toml README.md ./
COPY qbank ./qbank
COPY ingest ./ingest
COPY index ./index
COPY service ./service
COPY eval ./eval
RUN /opt/export/bin/pip install --no-cache-dir ".[export]" \
 && QBANK_MODEL_CACHE_DIR=/opt/models /opt/export/bin/qbank export

# The serving venv: qbank without the export extra, so without torch (the
# check fails the build if a dependency ever brings it back).
# hadolint ignore=DL3013
RUN python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir --upgrade pip \
 && /opt/venv/bin/pip install --no-cache-dir . \
 && if /opt/venv/bin/pip show --quiet torch 2>/dev/null; then echo "torch in the serving venv" >&2 && exit 1; fi


FROM ${PYTHON_IMAGE} AS runtime

# qbank is installed into site-packages, so the project-root defaults of
# QBANK_INDEX_DIR, QBANK_CONTENT_DIR, QBANK_NEIGHBOURS_DIR and QBANK_MODEL_CACHE_DIR would point
# there: set them.  The index lives one level down in /data because
# /data/index is a symlink to a versioned directory that `qbank ingest` swaps
# atomically; mount the volume at /data, never at /data/index.  The export
# stays in the image (/opt/models): there is no torch here to make it again.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    QBANK_CONTENT_DIR=/app/content \
    QBANK_NEIGHBOURS_DIR=/app/neighbours \
    QBANK_INDEX_DIR=/data/index \
    QBANK_MODEL_CACHE_DIR=/opt/models \
    QBANK_HOST=0.0.0.0 \
    QBANK_PORT=8000

RUN groupadd --gid 10001 qbank \
 && useradd --no-log-init --create-home --home-dir /home/qbank --uid 10001 --gid 10001 qbank \
 && mkdir -p /app /data \
 && chown 10001:10001 /data

COPY --from=build /opt/venv /opt/venv
COPY --from=build /opt/models /opt/models
WORKDIR /app
COPY content ./content
COPY neighbours ./neighbours

# Build the index now, as `make ingest` does, with the exported encoder.  A
# named volume mounted at /data starts as a copy of this, so the first start
# loads it instead of building.
USER 10001:10001
RUN qbank ingest

VOLUME ["/data"]
EXPOSE 8000

# Ready = the index is loaded (/readyz answers 503 until then).  The long start
# period covers a first start that has to build the index into an empty mount.
HEALTHCHECK --interval=15s --timeout=5s --start-period=300s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=4)"]

CMD ["qbank", "serve", "--host", "0.0.0.0", "--port", "8000"]
