#!/usr/bin/env bash
# Debian's Chromium for the console's browser tests (api/console.int.test.ts) and bench/console-load.ts,
# driven by playwright-core with executablePath (no browser is ever downloaded). `make setup` runs it
# through `make chromium`. Idempotent: installs Debian's `chromium` package only when /usr/bin/chromium
# (or $AUTOPILOT_CHROMIUM) is missing. Without it and without the rights to install it: outside CI a line
# says how (the browser suite then skips); in CI (`CI` set) it fails, as the suite itself does.
set -euo pipefail

chromium="${AUTOPILOT_CHROMIUM:-/usr/bin/chromium}"

missing() {
  local why="chromium: $chromium not found ($1); install Debian's package as root: apt-get update && apt-get install -y --no-install-recommends chromium"
  if [[ -n "${CI:-}" ]]; then
    echo "$why — in CI a missing browser fails instead of skipping" >&2
    exit 1
  fi
  echo "SKIPPED $why" >&2
  exit 0
}

if [[ -x "$chromium" ]]; then
  echo "chromium: $("$chromium" --version 2>/dev/null | head -1)"
  exit 0
fi
if [[ "$(id -u)" -ne 0 ]]; then missing "not root, cannot apt-get install"; fi
command -v apt-get >/dev/null || missing "no apt-get on this machine"
echo "chromium: installing Debian's chromium package…"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
[[ -x "$chromium" ]] || { echo "chromium: the chromium package installed no $chromium" >&2; exit 1; }
echo "chromium: $("$chromium" --version 2>/dev/null | head -1)"
