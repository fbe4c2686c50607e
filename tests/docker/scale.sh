#!/usr/bin/env bash
# Scale-out check with a Docker engine (not part of `make test`): three api replicas behind the nginx `lb`
# (compose profile "scale"); requests must spread over all three, and killing one replica mid-load must
# lose no request (nginx retries on the next replica).
set -euo pipefail
cd "$(dirname "$0")/../.."
COMPOSE=${COMPOSE:-docker-compose}
PROJECT=${PROJECT:-lstmforecast-scale}
export TORCH_INDEX_URL=${TORCH_INDEX_URL:-http://127.0.0.1:8765/simple}
export FORECAST_PUBLISH_PORT=${PORTS:-18100-18102}
export FORECAST_LB_PORT=${LB_PORT:-18180}
LB=http://127.0.0.1:$FORECAST_LB_PORT
compose() { $COMPOSE -p "$PROJECT" "$@"; }
cleanup() { compose --profile scale down -v --remove-orphans >/dev/null 2>&1 || true; }
trap cleanup EXIT
cleanup

echo "== build"
docker build --network host -q -t lstm-forecast/api:latest . >/dev/null
docker build --network host -q -f docker/Dockerfile.lb -t lstm-forecast/lb:latest . >/dev/null
docker build --network host -q --build-arg TORCH_INDEX_URL="$TORCH_INDEX_URL" \
    -f docker/Dockerfile.train -t lstm-forecast/trainer:latest . >/dev/null

echo "== up with 3 api replicas"
compose --profile scale up -d --scale api=3
for _ in $(seq 150); do
    healthy=$(for c in $(compose ps -q api); do docker inspect --format '{{.State.Health.Status}}' "$c"; done | grep -c healthy || true)
    [ "$healthy" = 3 ] && curl -fsS "$LB/health/ready" >/dev/null 2>&1 && break
    sleep 2
done
[ "$healthy" = 3 ] || { compose logs --tail 30; echo "FAIL: $healthy of 3 replicas healthy"; exit 1; }
echo "3 replicas healthy"

WINDOW=$(python3 -c 'print(",".join(f"{2500 + 3 * i:.2f}" for i in range(60)))')
echo "{\"window\":[$WINDOW]}" > /tmp/scale-body.json

echo "== spread"
for _ in $(seq 90); do
    curl -fsS -o /dev/null -D - -XPOST "$LB/predict" -H 'content-type: application/json' \
        --data @/tmp/scale-body.json | grep -i '^x-upstream' | tr -d '\r' | awk '{print $2}'
done | sort | uniq -c | tee /tmp/scale-spread.txt
replicas=$(wc -l < /tmp/scale-spread.txt)
[ "$replicas" = 3 ] || { echo "FAIL: requests reached $replicas replicas, not 3"; exit 1; }

echo "== kill one replica mid-load"
cat > /tmp/scale-post.lua <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("/tmp/scale-body.json", "r"); wrk.body = f:read("*a"); f:close()
LUA
victim=$(compose ps -q api | head -1)
(sleep 4; docker kill "$victim" >/dev/null; echo "killed $victim") &
wrk -t1 -c16 -d12s -s /tmp/scale-post.lua "$LB/predict" | tee /tmp/scale-wrk.txt
wait
if grep -qE "Non-2xx|Socket errors" /tmp/scale-wrk.txt; then echo "FAIL: requests lost"; exit 1; fi
echo "no failed request while a replica was killed"
cleanup
trap - EXIT
echo "SCALE OK"
