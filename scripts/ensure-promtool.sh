#!/usr/bin/env bash
# Makes sure promtool (Prometheus's rule checker, Debian package "prometheus") is installed, for the alert-rule and
# dashboard tests (ops/prometheus, ops/grafana; dev.keyhold.ops.OpsRulesTest).
# Installs it with apt-get when running as root or with password-less sudo; otherwise stops with one line.
set -u
have() { command -v promtool >/dev/null 2>&1; }
have && exit 0
if command -v apt-get >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO=none; fi
  if [ "$SUDO" != none ]; then
    echo "Installing promtool (package prometheus) with apt-get ..." >&2
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null &&
      $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
    have && exit 0
  fi
fi
echo "Keyhold's alert-rule tests need promtool: run 'sudo apt-get install prometheus' (Debian/Ubuntu), then retry." >&2
exit 1
