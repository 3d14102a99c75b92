#!/usr/bin/env bash
# Runs escape-guard on the bundled example: builds a git repository whose main
# branch holds examples/demo/base and whose feature branch holds examples/demo/head,
# then compares them as a pull request would. Extra arguments go to `escape-guard diff`
# (e.g. --format markdown, --explain).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$root/scripts/bootstrap.sh"
export PATH="$root/.venv/bin:$PATH" GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-mod=mod

repo=$(mktemp -d "${TMPDIR:-/tmp}/escape-guard-demo.XXXXXX")
trap 'rm -rf "$repo"' EXIT
git() { command git -C "$repo" -c user.name=demo -c user.email=demo@example.com "$@"; }
git init --quiet --initial-branch=main
cp -R "$root/examples/demo/base/." "$repo/"
git add -A && git commit --quiet -m "base"
git switch --quiet -c feature
find "$repo" -mindepth 1 -maxdepth 1 ! -name .git -exec rm -rf {} +
cp -R "$root/examples/demo/head/." "$repo/"
git add -A && git commit --quiet -m "head"

echo "\$ escape-guard diff --base main $*" >&2
status=0
escape-guard diff --repo "$repo" --base main "$@" || status=$?
case $status in
  0) echo "(exit 0: no new heap escapes)" >&2 ;;
  1) echo "(exit 1: new heap escapes — a required check would fail here)" >&2; status=0 ;;
esac
exit "$status"
