#!/usr/bin/env bash
# `docker compose build` with the image labels `pnpm turbo run docker:build` writes: each app's
# org.opencontainers.image.version is the version in its package.json (the one its logs and
# /health report) and .revision the git commit of this checkout. Compose alone cannot read either
# (a label is a build argument, and a compose file only interpolates variables), so a bare
# `docker compose build` or `up --build` labels the images 0.0.0-dev and unknown. This needs only
# bash, sed and git (no Node or pnpm on the host); without git, or outside a checkout, the
# revision is `unknown`.
#
#   infra/build.sh [docker compose options] [-- SERVICE...]
#   infra/build.sh -f infra/compose.yaml                  # api, worker, beat and proxy
#   infra/build.sh -f infra/compose.yaml -- worker        # the worker only
#
# Each app is built on its own, with its own VERSION (the apps' versions may differ); they share
# every cached layer up to their own files.
set -euo pipefail

options=()
services=()
while (($# > 0)); do
  if [[ $1 == -- ]]; then
    shift
    services=("$@")
    break
  fi
  options+=("$1")
  shift
done
((${#services[@]} > 0)) || services=(api worker beat proxy)

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
revision=$(git -C "$root" rev-parse HEAD 2>/dev/null) || revision=unknown

# the top-level "version" of a package.json as the repository formats it (two-space indent)
version_of() {
  sed -n 's/^  "version": "\([^"]*\)",\{0,1\}$/\1/p' "$root/apps/$1/package.json"
}

for service in "${services[@]}"; do
  if [[ -f $root/apps/$service/package.json ]]; then
    version=$(version_of "$service")
    if [[ -z $version ]]; then
      echo "build: apps/$service/package.json has no top-level \"version\"" >&2
      exit 1
    fi
    echo "build: $service $version, revision $revision" >&2
    VERSION=$version REVISION=$revision docker compose "${options[@]}" build "$service"
  else
    docker compose "${options[@]}" build "$service"
  fi
done
