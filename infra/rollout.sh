#!/usr/bin/env bash
# Replaces the containers of one compose service with new ones, without a moment with fewer of
# them running: starts as many new containers (from the image and settings compose resolves now)
# beside the old ones, waits until every one is healthy, then stops the old ones, which drain
# (the api: readiness 503 while the proxy takes it out of rotation, then in-flight requests; a
# worker: its running jobs, within stop_grace_period), and removes them. No other service is
# recreated (--no-recreate); one that is stopped, and that the service depends on, is started.
#
#   infra/rollout.sh [docker compose options] SERVICE
#   infra/rollout.sh -f infra/compose.yaml api
#   infra/rollout.sh -f infra/compose.yaml worker
#
# Run migrations first (`docker compose ... run --rm migrate`); see docs/operations.md.
set -euo pipefail

if (($# < 1)) || [[ ${*: -1} == -* ]]; then
  echo "usage: $0 [docker compose options] SERVICE" >&2
  exit 2
fi
service=${*: -1}
options=("${@:1:$#-1}")
compose() { docker compose "${options[@]}" "$@"; }
log() { printf 'rollout %s: %s\n' "$service" "$*" >&2; }

mapfile -t old < <(compose ps --quiet "$service")
count=${#old[@]}
if ((count == 0)); then
  log "no running container: start it with \`docker compose up -d $service\`"
  exit 1
fi

# The proxy finds a new api within its DNS hold and check interval (1 s each, infra/proxy/
# haproxy.cfg); this leaves it that long, and more, before the old ones start draining.
settle=${ROLLOUT_SETTLE_SECONDS:-3}

log "starting $count new container(s) beside ${old[*]}"
# Not --no-deps: from Compose 2.26 until docker/compose#12072 (issue #12069), it leaves depends_on
# out of the configuration it hashes into the containers' com.docker.compose.config-hash label
# under --no-deps, so a later plain `up` would find the new containers outdated and recreate them
# all at once. --no-recreate already keeps the dependencies' containers as they are.
compose up --detach --no-recreate --scale "$service=$((count * 2))" "$service"
mapfile -t all < <(compose ps --quiet "$service")
new=()
for id in "${all[@]}"; do [[ " ${old[*]} " == *" $id "* ]] || new+=("$id"); done

# Waits for the new containers only (`up --wait` would also fail on an old one that a busy
# machine made miss a health check, although the old ones are about to go anyway).
deadline=$((SECONDS + ${ROLLOUT_WAIT_SECONDS:-180}))
for id in "${new[@]}"; do
  until [[ $(docker inspect --format '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "$id") =~ ^(healthy|running)$ ]]; do
    if ((SECONDS >= deadline)); then
      log "$id is not healthy after ${ROLLOUT_WAIT_SECONDS:-180} s; the old containers keep serving (remove the new ones with docker rm -f)"
      exit 1
    fi
    sleep 1
  done
done
log "healthy: ${new[*]}"
sleep "$settle"

# docker stop waits for the service's stop_grace_period (compose sets it on each container)
log "stopping ${old[*]} (each drains within its stop_grace_period)"
docker stop "${old[@]}" >/dev/null
docker rm "${old[@]}" >/dev/null
log "done: $count container(s) replaced"
