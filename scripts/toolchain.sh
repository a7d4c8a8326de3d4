# Puts the project's pinned Node.js (.node-version) and pnpm (package.json "packageManager") on PATH.
#
#   source scripts/toolchain.sh
#
# When the machine already has both at the pinned versions, this changes nothing. Otherwise it
# installs them under $TOOLCHAIN_HOME (default ~/.cache/jobstack-toolchain) from the npm registry
# alone: Node from the `node-<os>-<arch>` package, pnpm from the `pnpm` package. That works behind
# firewalls that allow only the registry, where corepack's signature check and nodejs.org downloads
# fail. Needs any npm on PATH.

toolchain_main() {
  local root node_version pnpm_version home platform arch
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  node_version=$(tr -d '[:space:]v' <"$root/.node-version")
  pnpm_version=$(sed -n 's/.*"packageManager": *"pnpm@\([^"]*\)".*/\1/p' "$root/package.json")
  [ -n "$node_version" ] && [ -n "$pnpm_version" ] || {
    echo "toolchain: cannot read the pinned versions from .node-version and package.json" >&2
    return 1
  }

  if [ "$(node -v 2>/dev/null)" = "v$node_version" ] && [ "$(pnpm -v 2>/dev/null)" = "$pnpm_version" ]; then
    return 0
  fi

  home=${TOOLCHAIN_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/jobstack-toolchain}
  case "$(uname -s)" in Linux) platform=linux ;; Darwin) platform=darwin ;; *) echo "toolchain: unsupported OS $(uname -s)" >&2; return 1 ;; esac
  case "$(uname -m)" in x86_64 | amd64) arch=x64 ;; aarch64 | arm64) arch=arm64 ;; *) echo "toolchain: unsupported CPU $(uname -m)" >&2; return 1 ;; esac

  local node_dir="$home/node-$node_version" pnpm_dir="$home/pnpm-$pnpm_version"
  # Each tool is unpacked into a private directory beside its final place and renamed into place,
  # so shells that source this at the same time (parallel CI jobs, several checkouts) never see or
  # delete one another's half-installed copy; whichever finishes second drops its own.
  mkdir -p "$home" || return 1
  if [ ! -x "$node_dir/bin/node" ]; then
    echo "toolchain: installing Node.js $node_version into $node_dir" >&2
    local tmp
    tmp=$(mktemp -d "$home/.node-$node_version.XXXXXX") || return 1
    if (cd "$tmp" && npm pack --silent "node-$platform-$arch@$node_version" >/dev/null) &&
      mkdir "$tmp/dist" && tar -xzf "$tmp"/node-*.tgz -C "$tmp/dist" --strip-components=1; then
      mv -T "$tmp/dist" "$node_dir" 2>/dev/null || [ -x "$node_dir/bin/node" ] ||
        { rm -rf "$tmp"; echo "toolchain: could not install Node.js $node_version" >&2; return 1; }
      rm -rf "$tmp"
    else
      rm -rf "$tmp"
      echo "toolchain: could not install Node.js $node_version" >&2
      return 1
    fi
  fi
  if [ ! -x "$pnpm_dir/bin/pnpm" ]; then
    echo "toolchain: installing pnpm $pnpm_version into $pnpm_dir" >&2
    local tmp
    tmp=$(mktemp -d "$home/.pnpm-$pnpm_version.XXXXXX") && chmod 755 "$tmp" || return 1
    # pnpm's install script links its native binary in place of the Node.js launcher
    if npm install --global --silent --prefix "$tmp" --allow-scripts=pnpm "pnpm@$pnpm_version" >/dev/null 2>&1 ||
      npm install --global --silent --prefix "$tmp" "pnpm@$pnpm_version" >/dev/null; then
      [ -e "$pnpm_dir" ] && [ ! -x "$pnpm_dir/bin/pnpm" ] && rm -rf "$pnpm_dir"
      mv -T "$tmp" "$pnpm_dir" 2>/dev/null || [ -x "$pnpm_dir/bin/pnpm" ] ||
        { rm -rf "$tmp"; echo "toolchain: could not install pnpm $pnpm_version" >&2; return 1; }
      rm -rf "$tmp"
    else
      rm -rf "$tmp"
      echo "toolchain: could not install pnpm $pnpm_version" >&2
      return 1
    fi
  fi
  export PATH="$node_dir/bin:$pnpm_dir/bin:$PATH"
  hash -r 2>/dev/null
  echo "toolchain: node $(node -v), pnpm $(pnpm -v)" >&2
}

toolchain_main
