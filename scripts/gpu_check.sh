#!/usr/bin/env bash
# Runs the service's CUDA path where an NVIDIA GPU is at hand: installs onnxruntime-gpu in a separate venv,
# trains a small model if models/ is empty, prints the providers in use and the CUDA-vs-CPU difference.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${GPU_VENV:-.venv-gpu}
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet -e '.[serve]'
"$VENV/bin/pip" uninstall --quiet -y onnxruntime
"$VENV/bin/pip" install --quiet 'onnxruntime-gpu>=1.20,<2' 'nvidia-cudnn-cu12' 'nvidia-cublas-cu12' \
    'nvidia-cuda-runtime-cu12' 'nvidia-cufft-cu12' 'nvidia-curand-cu12'
MODELS=${MODELS:-models}
if [ ! -s "$MODELS/CURRENT" ]; then
    echo "no model in $MODELS; train one first (make train) and copy the registry here" >&2
    exit 2
fi
# onnxruntime-gpu finds the pip-installed CUDA libraries once they are preloaded
"$VENV/bin/python" -c "import onnxruntime as o; o.preload_dlls(); print(o.get_available_providers())"
"$VENV/bin/python" - "$MODELS" <<'PY'
import sys, onnxruntime
onnxruntime.preload_dlls()
sys.argv = ["gpu_check", "--models", sys.argv[1]]
from scripts.gpu_check import main
raise SystemExit(main())
PY
