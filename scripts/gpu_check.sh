#!/usr/bin/env bash
# The whole GPU check on a machine with an NVIDIA GPU, in one go (about 3 minutes on an H200): a venv with
# onnxruntime-gpu and its CUDA 13 + cuDNN 9 libraries, a tiny model trained if MODELS holds none, then
# scripts/gpu_check.py (providers, CUDA-vs-CPU difference, model-alone timings, service req/s).
# Offline hosts: point pip at local wheels with PIP_FIND_LINKS=/dir PIP_NO_INDEX=1; a torch already on the
# system is reused for training (the venv sees system site-packages).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${GPU_VENV:-.venv-gpu}
MODELS=${MODELS:-models}
python3 -m venv --system-site-packages "$VENV"
"$VENV/bin/pip" install --quiet -e '.[serve]'
"$VENV/bin/pip" uninstall --quiet -y onnxruntime || true
# The same CUDA 13 + cuDNN 9 stack as the GPU image (docker/requirements-gpu.txt): onnxruntime-gpu 1.31.1 is
# built for CUDA 13, and CUDA 12 libraries cannot satisfy its provider.
"$VENV/bin/pip" install --quiet 'onnxruntime-gpu[cuda,cudnn]==1.31.1'
if [ ! -s "$MODELS/CURRENT" ]; then
    echo "no model in $MODELS: training a small one (2 layers x 16, 3 epochs)"
    "$VENV/bin/pip" install --quiet -e '.[train]'
    "$VENV/bin/python" -m training train --out "$MODELS" --layers 2 --hidden 16 --epochs 3 --no-progress --force
fi
exec "$VENV/bin/python" -m scripts.gpu_check --models "$MODELS" "$@"
