#!/usr/bin/env bash
# GPU image check (needs a Docker engine; runs on a machine without a GPU too): build docker/Dockerfile.gpu,
# show inside it that every library the CUDA provider needs resolves except the host driver's libcuda.so.1
# and that cuDNN 9 is there, that FORECAST_PROVIDERS=cuda is refused with exit 2 and a line naming CUDA
# when no GPU is usable, and that FORECAST_PROVIDERS=auto serves on CPU.
# With the sandbox engine: ../shared/tools/docker-sandbox.sh, then make docker-gpu-check.
set -euo pipefail
cd "$(dirname "$0")/../.."
IMAGE=${IMAGE:-lstm-forecast/api-gpu:check}
MODELS=${MODELS:-models}
PORT=${PORT:-18090}
say() { printf '\n== %s\n' "$*"; }
[ -s "$MODELS/CURRENT" ] || { echo "no model in $MODELS/ (make train)"; exit 1; }

say "build"
docker build --network host -q -f docker/Dockerfile.gpu -t "$IMAGE" . >/dev/null
docker image ls --format '{{.Repository}}:{{.Tag}}  {{.Size}}' "$IMAGE"

say "libraries of the CUDA provider (ldd, after the service's own preload)"
docker run --rm -i --entrypoint python "$IMAGE" - <<'PY'
import glob, os, subprocess, sys
import onnxruntime as ort
ort.preload_dlls(cuda=True, cudnn=True, msvc=False)
capi = os.path.dirname(ort.__file__) + "/capi"
provider = glob.glob(capi + "/libonnxruntime_providers_cuda.so")[0]
site = os.path.dirname(os.path.dirname(ort.__file__))
paths = sorted({os.path.dirname(p) for p in glob.glob(site + "/nvidia/**/lib*.so*", recursive=True)})
env = dict(os.environ, LD_LIBRARY_PATH=":".join([capi, *paths]))
lines = subprocess.run(["ldd", provider], capture_output=True, text=True, env=env).stdout.splitlines()
missing = sorted({l.split()[0] for l in lines if "not found" in l})
print(f"onnxruntime-gpu {ort.__version__}; providers offered: {ort.get_available_providers()}")
for name in ("libcublas.so.13", "libcublasLt.so.13", "libcudart.so.13", "libcurand.so.10"):
    found = [l.split("=>")[1].split()[0] for l in lines if l.split()[0] == name]
    print(f"  {name:20} -> {found[0] if found else 'NOT FOUND'}")
cudnn = glob.glob(site + "/nvidia/**/libcudnn.so.9*", recursive=True)
print(f"  cuDNN 9: {cudnn[0] if cudnn else 'NOT FOUND'}")
print(f"  unresolved: {missing}")
if missing != ["libcuda.so.1"] or not cudnn:
    sys.exit("FAIL: only the driver's libcuda.so.1 may be missing, and cuDNN 9 must be present")
PY

say "FORECAST_PROVIDERS=cuda without a usable GPU: refused, exit 2, one line naming CUDA"
set +e
out=$(docker run --rm -v "$PWD/$MODELS:/models:ro" -e FORECAST_PROVIDERS=cuda "$IMAGE" 2>&1)
code=$?
set -e
echo "exit $code: $(echo "$out" | grep '^error:')"
[ "$code" = 2 ] && echo "$out" | grep -q '^error: FORECAST_PROVIDERS=cuda but CUDA cannot run here' || { echo "$out"; echo FAIL; exit 1; }

say "FORECAST_PROVIDERS=auto without a usable GPU: serves on CPU"
name=gpu-image-check-$$
docker run -d --rm --name "$name" -p "127.0.0.1:$PORT:8000" -v "$PWD/$MODELS:/models:ro" \
    -e FORECAST_PROVIDERS=auto "$IMAGE" >/dev/null
trap 'docker rm -f "$name" >/dev/null 2>&1 || true' EXIT
for _ in $(seq 60); do curl -fsS "http://127.0.0.1:$PORT/health/ready" >/dev/null 2>&1 && break; sleep 1; done
curl -fsS "http://127.0.0.1:$PORT/model" | python3 -c 'import json,sys; m=json.load(sys.stdin); p=m["placement"]; print("serving", m["version"], "on", m["execution_providers"], "placement", p); sys.exit(m["execution_providers"] != ["CPUExecutionProvider"] or list(p["devices"]) != ["cpu"])'
docker logs "$name" 2>&1 | grep -o 'CUDA is offered but cannot run[^"]*' | head -1
window=$(python3 -c 'print(",".join(f"{2500 + 3 * i + (i % 5):.2f}" for i in range(60)))')
curl -fsS -XPOST "http://127.0.0.1:$PORT/predict" -H 'content-type: application/json' -d "{\"window\":[$window]}"
echo
echo "GPU IMAGE CHECK OK"
