#!/usr/bin/env bash
# Makes sure SoftHSM2 (the development HSM) and OpenSC's pkcs11-tool are installed.
# Installs them with apt-get when running as root or with password-less sudo; otherwise stops with one line.
set -u
have() {
  command -v softhsm2-util >/dev/null 2>&1 && command -v pkcs11-tool >/dev/null 2>&1 && {
    [ -e /usr/lib/softhsm/libsofthsm2.so ] || [ -e /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so ] ||
    [ -e /usr/local/lib/softhsm/libsofthsm2.so ]; }
}
have && exit 0
if command -v apt-get >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO=none; fi
  if [ "$SUDO" != none ]; then
    echo "Installing SoftHSM2 and OpenSC with apt-get ..." >&2
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null &&
      $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq softhsm2 opensc >/dev/null
    have && exit 0
  fi
fi
echo "Keyhold needs SoftHSM2 and OpenSC: run 'sudo apt-get install softhsm2 opensc' (Debian/Ubuntu), then retry." >&2
exit 1
