# One image for every Python part of the stack: the four HotROD services, the trace backend and
# the Locust load tools; compose and Kubernetes pick the part with the command
# (`hotrod frontend`, `hotrod backend`, `hotrod load ...`).  Without a command: `hotrod all`.
#
#   docker build -t hotrod-py .
#   docker run --rm -p 8080:8080 -p 16686:16686 hotrod-py

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/hotrod
WORKDIR /src
# only what the wheel needs, so editing tests or docs does not invalidate this layer
COPY pyproject.toml README.md constraints.txt ./
COPY hotrod hotrod
COPY backend backend
COPY loadgen loadgen
COPY httpd httpd
COPY embedded_redis embedded_redis
# the versions CI tested (constraints.txt, made by ./run lock)
RUN /opt/hotrod/bin/pip install -c constraints.txt .

FROM python:3.11-slim
# Inside a container every server must listen on all interfaces (outside, the default is 127.0.0.1).
ENV PATH=/opt/hotrod/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOTROD_BIND=0.0.0.0 \
    HOTROD_BACKEND_BIND=0.0.0.0 \
    HOTROD_DATA_DIR=/var/lib/hotrod
RUN groupadd --system --gid 10001 hotrod \
    && useradd --system --uid 10001 --gid hotrod --home-dir /var/lib/hotrod --create-home hotrod
COPY --from=build /opt/hotrod /opt/hotrod
COPY deploy/backend /app/deploy/backend
COPY deploy/roles /app/deploy/roles
USER 10001:10001
# the backend's SQLite file (data/traces.db by default) and the embedded SQLite/Redis of `hotrod all`
WORKDIR /var/lib/hotrod
VOLUME ["/var/lib/hotrod"]
# HotROD 8080-8083, OTLP 4317/4318, query API + UI 16686, health 13133, metrics 8888, Locust 8089 + 5557
EXPOSE 8080 8081 8082 8083 4317 4318 16686 13133 8888 8089 5557
ENTRYPOINT ["hotrod"]
CMD ["all"]
