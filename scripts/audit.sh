#!/usr/bin/env bash
# Audits the service image's locked dependencies (docker/requirements-serve.txt) with pip-audit and PyPI's
# vulnerability data. Fails when a vulnerability is known or when any locked package could not be audited.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
"$PY" -m pip_audit --version >/dev/null 2>&1 || "$PY" -m pip install --quiet pip-audit
exec "$PY" -m scripts.audit "$@"
