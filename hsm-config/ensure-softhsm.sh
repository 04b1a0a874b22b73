#!/usr/bin/env bash
# Makes sure SoftHSM2 (the development HSM), OpenSC's pkcs11-tool and OpenSSH's ssh-keygen are installed
# (the custodian-signature tests check Keyhold's SSH signatures against the real ssh-keygen).
# Installs them with apt-get when running as root or with password-less sudo; otherwise stops with one line.
set -u
have() {
  command -v ssh-keygen >/dev/null 2>&1 &&
  command -v softhsm2-util >/dev/null 2>&1 && command -v pkcs11-tool >/dev/null 2>&1 && {
    [ -e /usr/lib/softhsm/libsofthsm2.so ] || [ -e /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so ] ||
    [ -e /usr/local/lib/softhsm/libsofthsm2.so ]; }
}
have && exit 0
if command -v apt-get >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO=none; fi
  if [ "$SUDO" != none ]; then
    echo "Installing SoftHSM2, OpenSC and openssh-client with apt-get ..." >&2
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null &&
      $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq softhsm2 opensc openssh-client >/dev/null
    have && exit 0
  fi
fi
echo "Keyhold needs SoftHSM2, OpenSC and ssh-keygen: run 'sudo apt-get install softhsm2 opensc openssh-client'" \
  "(Debian/Ubuntu), then retry." >&2
exit 1
