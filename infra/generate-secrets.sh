#!/usr/bin/env bash
# Writes the secret files infra/compose.yaml mounts (its `secrets:`), each from fresh random
# bytes. A file that already exists is kept, never overwritten: re-running it after an upgrade
# adds only what a new version needs. To rotate one, delete its file (and, for the passwords,
# the files derived from it, listed below), run this again, then see docs/operations.md.
#
#   infra/generate-secrets.sh [DIR]          # DIR: $SECRETS_DIR, else infra/secrets
#
# The URLs name the users and database of infra/compose.yaml; set POSTGRES_USER, POSTGRES_DB and
# POSTGRES_APP_USER here as in infra/.env when you change them there.
set -euo pipefail

dir=${1:-${SECRETS_DIR:-$(dirname "$0")/secrets}}
owner=${POSTGRES_USER:-jobstack}
app_user=${POSTGRES_APP_USER:-jobstack_app}
database=${POSTGRES_DB:-jobstack}

# Only the owner may enter the directory. The files themselves are readable by all (0644): Compose
# bind-mounts them as they are, and the containers read them as their own non-root users.
mkdir -p "$dir"
chmod 700 "$dir"
umask 022

hex() { od -An -vtx1 -N"$1" /dev/urandom | tr -d ' \n'; }
base64_of() { head -c "$1" /dev/urandom | base64 | tr -d '\n'; }

created=()
# write NAME VALUE: creates the file when missing; the value never reaches the terminal
write() {
  [[ -e $dir/$1 ]] && return 0
  printf '%s\n' "$2" >"$dir/$1"
  created+=("$1")
}
read_secret() { head -n1 "$dir/$1"; }

write postgres_password "$(hex 24)"
write app_database_password "$(hex 24)"
write redis_password "$(hex 24)"
write api_keys "$(hex 32)"
write metrics_token "$(hex 32)"
# the Standard Webhooks format the worker requires: whsec_ + base64 of 32 random bytes
write webhook_signing_secret "whsec_$(base64_of 32)"
# seals the webhook endpoints' signing secrets (AES-256-GCM): 32 random bytes, base64
write webhook_secrets_key "$(base64_of 32)"

# derived from the passwords above (hex: safe in a URL as they are)
write migrate_database_url \
  "postgresql://$owner:$(read_secret postgres_password)@postgres:5432/$database"
write database_url \
  "postgresql://$app_user:$(read_secret app_database_password)@postgres:5432/$database"
write redis_url "redis://default:$(read_secret redis_password)@redis:6379"
# Redis keeps only the password's SHA-256 (an ACL file, `--aclfile`)
write redis_users_acl \
  "user default on #$(printf '%s' "$(read_secret redis_password)" | sha256sum | cut -d' ' -f1) ~* &* +@all"

if ((${#created[@]})); then
  echo "wrote ${created[*]} in $dir" >&2
else
  echo "every secret already exists in $dir; nothing written" >&2
fi
