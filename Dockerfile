# syntax=docker/dockerfile:1
# The function's runtime image. Build and runtime stages use the same Python (3.11, Debian bookworm),
# so the wheel's compiled dependencies (grpcio, protobuf, pydantic-core) match the interpreter.
ARG PYTHON_IMAGE=docker.io/library/python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /venv/fn
COPY pyproject.toml README.md LICENSE ./
COPY function ./function
RUN /venv/fn/bin/pip install --no-compile .

FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --system --gid 65532 function \
 && useradd --system --uid 65532 --gid 65532 --no-create-home --shell /usr/sbin/nologin function
COPY --from=build /venv/fn /venv/fn
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
USER 65532:65532
EXPOSE 9443
# TLS certificates are mounted by Crossplane (TLS_SERVER_CERTS_DIR); --insecure is only for local render.
ENTRYPOINT ["/venv/fn/bin/function"]
