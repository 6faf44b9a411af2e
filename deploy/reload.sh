#!/bin/sh
# Make every running qbank api container (api, api-slack, each api-replica)
# swap in the index now in the shared volume: POST /admin/reload inside each
# container, with that container's own QBANK_ADMIN_TOKEN.  Run it after
# `docker compose run --rm ingest`.  Requests in flight finish on the old index.
#
#   deploy/reload.sh                 # compose project "qbank"
#   COMPOSE_PROJECT_NAME=x deploy/reload.sh
set -eu

project="${COMPOSE_PROJECT_NAME:-qbank}"

RELOAD_PY='
import os, sys, urllib.error, urllib.request
token = os.environ.get("QBANK_ADMIN_TOKEN")
if not token:
    sys.exit("QBANK_ADMIN_TOKEN is not set in this container: set it in .env, then docker compose up -d")
request = urllib.request.Request(
    "http://127.0.0.1:8000/admin/reload", method="POST", headers={"Authorization": "Bearer " + token}
)
try:
    print(urllib.request.urlopen(request, timeout=300).read().decode())
except urllib.error.HTTPError as exc:
    sys.exit(f"HTTP {exc.code}: {exc.read().decode()}")
'

containers=$(docker ps -q --filter "label=com.docker.compose.project=${project}" --filter "label=qbank.role=api")
if [ -z "$containers" ]; then
    echo "no running qbank api container in compose project '${project}' (docker compose ps)" >&2
    exit 1
fi

status=0
for id in $containers; do
    name=$(docker inspect --format '{{.Name}}' "$id")
    if docker exec "$id" python -c "$RELOAD_PY"; then
        echo "reloaded ${name#/}"
    else
        echo "reload FAILED in ${name#/}: it keeps serving its previous index" >&2
        status=1
    fi
done
exit "$status"
