#!/usr/bin/env bash
# Runs the service's CUDA path where an NVIDIA GPU is at hand: installs onnxruntime-gpu in a separate venv,
# trains a small model if models/ is empty, prints the providers in use and the CUDA-vs-CPU difference.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${GPU_VENV:-.venv-gpu}
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet -e '.[serve]'
"$VENV/bin/pip" uninstall --quiet -y onnxruntime
# The same CUDA 13 + cuDNN 9 stack as the GPU image (docker/requirements-gpu.txt): onnxruntime-gpu 1.31.1 is
# built for CUDA 13, and CUDA 12 libraries cannot satisfy its provider.
"$VENV/bin/pip" install --quiet 'onnxruntime-gpu[cuda,cudnn]==1.31.1'
MODELS=${MODELS:-models}
if [ ! -s "$MODELS/CURRENT" ]; then
    echo "no model in $MODELS; train one first (make train) and copy the registry here" >&2
    exit 2
fi
# onnxruntime-gpu finds the pip-installed CUDA libraries once they are preloaded
"$VENV/bin/python" -c "import onnxruntime as o; o.preload_dlls(); print(o.get_available_providers())"
"$VENV/bin/python" - "$MODELS" <<'PY'
import sys
from service.cuda import preload_cuda_libraries
preload_cuda_libraries()
sys.argv = ["gpu_check", "--models", sys.argv[1]]
from scripts.gpu_check import main
raise SystemExit(main())
PY
