#!/usr/bin/env bash
# Audits the service image's locked dependencies (docker/requirements-serve.txt) for known vulnerabilities
# with pip-audit, using the PyPI vulnerability data (the package registry itself, no other service).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
"$PY" -m pip_audit --version >/dev/null 2>&1 || "$PY" -m pip install --quiet pip-audit
"$PY" -m pip_audit --requirement docker/requirements-serve.txt --vulnerability-service pypi --no-deps \
    --disable-pip --desc "$@"
