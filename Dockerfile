# syntax=docker/dockerfile:1
# The sealops controller image: `sealops controller --namespace sealops-system` (see deploy/).
#
#   docker build -t registry.example.com/sealops:0.1.0 .   # then: sealops install --image ...
#
# Runtime contents: Python 3.11 (slim), the sealops wheel and its dependencies, `git` and
# `openssh-client` (GitSync fetches with the git CLI), `kustomize` (GitSync renders Kustomize
# overlays; controller/render/kustomize.py looks for `kustomize`, then `kubectl`, on PATH).
# No kubectl, no compilers, no pip cache. Runs as UID/GID 10001 with a read-only root filesystem
# (deploy/deployment.yaml mounts an emptyDir at /tmp).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG GO_IMAGE=golang:1.23-bookworm

# --- kustomize, built from its Go module (the Go checksum database verifies the sources) ---
FROM ${GO_IMAGE} AS kustomize
ARG KUSTOMIZE_VERSION=v5.4.3
RUN CGO_ENABLED=0 GOBIN=/out go install -trimpath \
        "sigs.k8s.io/kustomize/kustomize/v5@${KUSTOMIZE_VERSION}" \
 && /out/kustomize version

# --- wheels: sealops and every dependency ---
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY sealer ./sealer
COPY controller ./controller
# Package data of controller.manifests (`sealops install`), reached through symlinks.
COPY crds ./crds
COPY deploy ./deploy
RUN pip wheel --wheel-dir /wheels ".[controller]"

# --- runtime ---
FROM ${PYTHON_IMAGE}
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/tmp
RUN apt-get update \
 && apt-get install -y --no-install-recommends git openssh-client ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 sealops \
 && useradd --system --uid 10001 --gid 10001 --home-dir /tmp --no-create-home \
        --shell /usr/sbin/nologin sealops
COPY --from=kustomize /out/kustomize /usr/local/bin/kustomize
# Install from the builder's wheels only (no index): what was built is what runs. The wheels
# are bind-mounted, so they never become a layer of this image.
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    pip install --no-index --find-links /wheels "sealops[controller]" \
 && sealops --help >/dev/null
USER 10001:10001
WORKDIR /tmp
EXPOSE 8080
ENTRYPOINT ["sealops"]
CMD ["controller", "--namespace", "sealops-system"]
