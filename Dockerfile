# PMO Pulse image: the official Airflow 3.3 image plus what reports need, and this project.
# Built by `docker compose build` (see docker-compose.yml). Not built in CI: there is no
# Docker engine there; tests/test_repository.py checks this file and the compose file.
FROM apache/airflow:3.3.2-python3.11

USER root
# WeasyPrint needs pango; libharfbuzz-subset0 makes Chinese PDFs ~10x faster; one CJK font
# only (two make charts mix fonts); a Java runtime reads MS Project / Primavera schedules.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk default-jre-headless \
 && apt-get autoremove -yqq --purge && apt-get clean && rm -rf /var/lib/apt/lists/*

USER airflow
COPY --chown=airflow:0 requirements.lock pyproject.toml README.md /opt/pmopulse/
COPY --chown=airflow:0 plugins /opt/pmopulse/plugins
RUN pip install --no-cache-dir -r /opt/pmopulse/requirements.lock \
 && pip install --no-cache-dir --no-deps /opt/pmopulse
# artifacts_root in an object store needs its file system, e.g. for s3:// build with
#   --build-arg OBJECT_STORE_PACKAGES="apache-airflow-providers-amazon[s3fs]"
ARG OBJECT_STORE_PACKAGES=""
RUN if [ -n "$OBJECT_STORE_PACKAGES" ]; then pip install --no-cache-dir $OBJECT_STORE_PACKAGES; fi

# Read-only content is mounted here by docker-compose.yml; PMOPULSE_HOME points at it.
ENV PMOPULSE_HOME=/opt/airflow
