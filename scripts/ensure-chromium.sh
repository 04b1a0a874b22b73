#!/usr/bin/env bash
# Makes sure Chromium and its WebDriver (chromedriver) are installed, for the browser tests (testsupport/Browser).
# Installs them with apt-get when running as root or with password-less sudo; otherwise stops with one line.
# Selenium's own driver download is not used: test machines may have no internet access.
set -u
have() {
  { command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; } &&
    { [ -x /usr/bin/chromedriver ] || command -v chromedriver >/dev/null 2>&1; }
}
have && exit 0
if command -v apt-get >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO=none; fi
  if [ "$SUDO" != none ]; then
    echo "Installing Chromium and chromium-driver with apt-get ..." >&2
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null &&
      $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
    have && exit 0
  fi
fi
echo "Keyhold's browser tests need Chromium and chromedriver: run 'sudo apt-get install chromium chromium-driver' (Debian), then retry." >&2
exit 1
