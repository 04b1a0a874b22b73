#!/usr/bin/env bash
# Builds, tests and installs keyhold-validator into the local Maven repository. The service's build runs this
# (pom.xml, execution "validator") with: <local repository> offline=<true|false> skipTests=<true|false>.
# By hand: ./mvnw -f validator/pom.xml install
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
args=(-B -ntp -f "$here/pom.xml" install "-Dmaven.repo.local=$1")
if [ "${2:-}" = offline=true ]; then args+=(-o); fi
case "${3:-}" in skipTests=true|skipTests=) args+=(-DskipTests) ;; esac
exec "$here/../mvnw" "${args[@]}"
