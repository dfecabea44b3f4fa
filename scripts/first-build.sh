#!/usr/bin/env bash
# first-build.sh OUT PKG: go build with progress, for the validator's first
# build (make validate). go build prints "go: downloading MODULE VERSION" for
# each module it fetches and, with -v, the path of each package it compiles:
# this passes the downloads (and any error) through and prints one line per
# 100 packages compiled.
set -uo pipefail
out="$1" pkg="$2"
start=$SECONDS
go build -v -o "$out" "$pkg" 2>&1 | awk '
  /^[A-Za-z0-9._~\/-]+$/ { n++; if (n % 100 == 0) { printf "  compiled %d packages...\n", n; fflush() }; next }
  { print "  " $0; fflush() }
  END { if (n) printf "  compiled %d packages\n", n }' >&2
status=${PIPESTATUS[0]}
if [ "$status" -eq 0 ]; then
  echo "  built $out in $((SECONDS - start)) s" >&2
fi
exit "$status"
