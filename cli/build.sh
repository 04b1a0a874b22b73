#!/usr/bin/env bash
# Builds (and, unless skipTests, tests) the keyhold command line into cli/target/keyhold-cli.jar. The service's
# build runs this (pom.xml, execution "cli") with: <local repository> offline=<true|false> skipTests=<true|false>.
# By hand: ./mvnw -f cli/pom.xml package
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
args=(-B -ntp -q -f "$here/pom.xml" package "-Dmaven.repo.local=$1")
if [ "${2:-}" = offline=true ]; then args+=(-o); fi
case "${3:-}" in skipTests=true|skipTests=) args+=(-DskipTests) ;; esac
exec "$here/../mvnw" "${args[@]}"
