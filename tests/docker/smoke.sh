#!/usr/bin/env bash
# Docker smoke test (needs a Docker engine; not part of `make test`): build both images, `docker-compose up`,
# wait for a healthy api, POST /predict, run the retrain profile with --force, wait for the new version to be
# served by hot reload, POST again, check that a second `up` does not retrain, tear down with volumes.
# With the sandbox engine: ../shared/tools/docker-sandbox.sh, then make docker-smoke.
set -euo pipefail
cd "$(dirname "$0")/../.."

COMPOSE=${COMPOSE:-docker-compose}
PROJECT=${PROJECT:-lstmforecast-smoke}
export TORCH_INDEX_URL=${TORCH_INDEX_URL:-http://127.0.0.1:8765/simple}
export FORECAST_PUBLISH_PORT=${PORT:-18000}
BASE=http://127.0.0.1:$FORECAST_PUBLISH_PORT
WINDOW=$(python3 -c 'print(",".join(f"{2500 + 3 * i + (i % 5):.2f}" for i in range(60)))')
compose() { $COMPOSE -p "$PROJECT" "$@"; }
say() { printf '\n== %s\n' "$*"; }
cleanup() { compose --profile retrain down -v --remove-orphans >/dev/null 2>&1 || true; }
trap cleanup EXIT
cleanup

say "build images"
docker build --network host -q -t lstm-forecast/api:latest . >/dev/null
docker build --network host -q --build-arg TORCH_INDEX_URL="$TORCH_INDEX_URL" \
    -f docker/Dockerfile.train -t lstm-forecast/trainer:latest . >/dev/null
docker image ls --format '{{.Repository}}:{{.Tag}}  {{.Size}}' 'lstm-forecast/*'

say "compose up (the trainer copies the bundled default model into the volume first)"
started=$(date +%s)
compose up -d
api=$(compose ps -q api)
for _ in $(seq 180); do
    status=$(docker inspect --format '{{.State.Health.Status}}' "$api" 2>/dev/null || echo starting)
    [ "$status" = healthy ] && break
    sleep 2
done
[ "$status" = healthy ] || { compose logs --tail 50; echo "FAIL: api not healthy"; exit 1; }
echo "api healthy after $(( $(date +%s) - started )) s"
docker inspect --format 'api runs as user {{.Config.User}}, read-only root: {{.HostConfig.ReadonlyRootfs}}' "$api"

predict() { curl -fsS -XPOST "$BASE/predict" -H 'content-type: application/json' -d "{\"window\":[$WINDOW]}"; }
version() { curl -fsS "$BASE/model" | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])'; }

say "predict"
first=$(predict); echo "$first"
v1=$(version)
echo "$first" | grep -q "\"model_version\":\"$v1\"" || { echo "FAIL: answer not from $v1"; exit 1; }

say "second up does not retrain"
compose up -d trainer >/dev/null 2>&1
for _ in $(seq 90); do  # the one-shot trainer exits at once when the volume already has a model
    [ "$(docker inspect --format '{{.State.Status}}' "$(compose ps -q trainer)")" = exited ] && break
    sleep 1
done
compose logs trainer | grep -q "already has a current model" || { echo "FAIL: trainer retrained"; exit 1; }
echo "trainer: $(compose logs --no-color trainer | grep 'already has a current model' | tail -1 | cut -d'|' -f2-)"

say "retrain profile twice on unchanged data: nothing new, CURRENT untouched, no reload"
current() { docker run --rm -v "${PROJECT}_models:/models:ro" --entrypoint cat lstm-forecast/trainer:latest /models/CURRENT; }
for round in 1 2; do
    out=$(compose --profile retrain run --rm retrain 2>&1)
    echo "round $round: $(echo "$out" | grep 'retrain:')"
    echo "$out" | grep -q "retrain: SKIPPED - no new data since $v1" || { echo "$out"; echo "FAIL: round $round retrained"; exit 1; }
done
[ "$(current)" = "$v1" ] || { echo "FAIL: CURRENT is $(current), not $v1"; exit 1; }
[ "$(version)" = "$v1" ] || { echo "FAIL: /model changed"; exit 1; }
echo "CURRENT still names $v1; /model still serves it"

say "retrain profile with --force"
compose --profile retrain run --rm retrain retrain --registry /models --no-progress --force --epochs 5

say "wait for hot reload of the new champion"
for _ in $(seq 60); do
    v2=$(version)
    [ "$v2" != "$v1" ] && break
    sleep 1
done
[ "$v2" != "$v1" ] || { echo "FAIL: /model still shows $v1"; exit 1; }
echo "served version: $v1 -> $v2"
second=$(predict); echo "$second"
echo "$second" | grep -q "\"model_version\":\"$v2\"" || { echo "FAIL: answer not from $v2"; exit 1; }
curl -fsS "$BASE/metrics" | grep -E '^forecast_model_reloads_total|^forecast_model_info'

say "tear down"
cleanup
trap - EXIT
echo "SMOKE OK"
