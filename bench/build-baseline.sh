#!/usr/bin/env bash
# Builds the packaged application of another commit, for benches that compare two builds in one session (APP=...).
# Prints the quarkus-app directory. The commit's tree is exported with git archive into target/bench-builds/<commit>
# (nothing else in the worktree changes) and built offline without tests; a finished build is reused.
# Usage: bench/build-baseline.sh <commit-ish>
set -euo pipefail
cd "$(dirname "$0")/.."
COMMIT=$(git rev-parse --short=12 "$1^{commit}")
DIR=target/bench-builds/$COMMIT
if [ ! -f "$DIR/target/quarkus-app/quarkus-run.jar" ]; then
  rm -rf "$DIR"
  mkdir -p "$DIR"
  git archive "$COMMIT" | tar -x -C "$DIR"
  (cd "$DIR" && ./mvnw -B -o -q -DskipTests -DskipValidator package >&2)
fi
echo "$DIR/target/quarkus-app"
