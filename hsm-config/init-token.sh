#!/usr/bin/env bash
# Creates a SoftHSM2 token for one Keyhold partition and prints its slot ID on stdout.
#
#   SOFTHSM2_CONF=/etc/keyhold/softhsm2.conf hsm-config/init-token.sh keyhold-default
#
# PINs come from KEYHOLD_HSM_SO_PIN and KEYHOLD_HSM_PIN, or are prompted for without echo. They are never
# printed. softhsm2-util only takes PINs as arguments, so on a shared host they are briefly visible in the
# process list to other local users: run this where only the operator is logged in.
#
# The slot ID changes every time a token is initialised; configure Keyhold with the number printed here
# (keyhold.hsm.partitions.<name>.slot). With a network HSM, use the vendor's tools instead of this script.
set -euo pipefail

usage() {
  echo "usage: SOFTHSM2_CONF=<conf> $0 <token-label>" >&2
  exit 2
}

[[ $# -eq 1 && -n "$1" ]] || usage
label=$1
[[ ${#label} -le 32 ]] || { echo "token label must be at most 32 characters" >&2; exit 2; }

command -v softhsm2-util >/dev/null || {
  echo "SoftHSM2 is not installed: run 'sudo apt-get install softhsm2' (Debian/Ubuntu)" >&2
  exit 1
}
[[ -n "${SOFTHSM2_CONF:-}" && -r "$SOFTHSM2_CONF" ]] || {
  echo "set SOFTHSM2_CONF to a readable SoftHSM2 config file (see softhsm2.conf.example)" >&2
  exit 1
}

# Reads a PIN from the named variable or prompts twice on the terminal; never echoes it.
read_pin() {
  local var=$1 prompt=$2 pin again
  pin=${!var:-}
  if [[ -z "$pin" ]]; then
    [[ -t 0 ]] || { echo "$var is not set and there is no terminal to prompt on" >&2; exit 1; }
    read -r -s -p "$prompt: " pin; echo >&2
    read -r -s -p "$prompt (again): " again; echo >&2
    [[ "$pin" == "$again" ]] || { echo "PINs do not match" >&2; exit 1; }
  fi
  [[ ${#pin} -ge 4 ]] || { echo "$prompt must have at least 4 characters" >&2; exit 1; }
  printf '%s' "$pin"
}

# Label lines are padded to 32 characters; the slot header comes before its token's label.
slot_of() {
  softhsm2-util --show-slots | awk -v want="$1" '
    /^Slot [0-9]+/ { slot = $2 }
    /^[[:space:]]+Label:/ { sub(/^[[:space:]]+Label:[[:space:]]*/, ""); sub(/[[:space:]]+$/, "");
                            if ($0 == want) { print slot; exit } }'
}

if [[ -n "$(slot_of "$label")" ]]; then
  echo "a token labelled '$label' already exists in slot $(slot_of "$label")" >&2
  exit 1
fi

so_pin=$(read_pin KEYHOLD_HSM_SO_PIN "Security officer PIN")
user_pin=$(read_pin KEYHOLD_HSM_PIN "User PIN")

softhsm2-util --init-token --free --label "$label" --so-pin "$so_pin" --pin "$user_pin" >/dev/null
unset so_pin user_pin

slot=$(slot_of "$label")
[[ -n "$slot" ]] || { echo "token '$label' was not found after initialisation" >&2; exit 1; }
echo "$slot"
