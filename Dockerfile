# syntax=docker/dockerfile:1
# The function's runtime image, for those who build with a container engine. It holds the same filesystem
# `make package` builds without one (hack/runtime_image.py: Debian bookworm's Python 3.11 and libraries at the
# versions hack/runtime-debian.lock pins, the wheels hack/runtime-wheels.lock pins by hash, function/), made by
# the same script in the build stage, and runs the same entrypoint as the same user on the same ports.
ARG BUILD_IMAGE=docker.io/library/python:3.11-slim-bookworm

FROM ${BUILD_IMAGE} AS build
WORKDIR /src
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
COPY hack/runtime_image.py hack/oci.py hack/runtime-debian.lock hack/runtime-wheels.lock ./hack/
COPY function ./function
COPY LICENSE ./
# The platform being built for (buildx sets it): the locks hold amd64 and arm64.
ARG TARGETARCH=amd64
RUN RUNTIME_ARCH=${TARGETARCH} python hack/runtime_image.py rootfs /rootfs

FROM scratch AS runtime
COPY --from=build /rootfs /
USER 65532:65532
EXPOSE 9443 8080
# TLS certificates are mounted by Crossplane (TLS_SERVER_CERTS_DIR); --insecure is only for local render.
ENTRYPOINT ["/usr/bin/python3.11", "-I", "-B", "-u", "-m", "function.main"]
