#!/usr/bin/env bash
# `npm start`: build kvmctl and print a real host report. Uses this machine's own
# libvirt when it answers; otherwise brings up the private lab host
# (scripts/lab.sh: packages, libvirtd in its own network namespace) and reports on it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

[ -f dist/kvmctl.cjs ] || npm run --silent build

if command -v virsh >/dev/null 2>&1 && LC_ALL=C timeout 10 virsh -c qemu:///system version >/dev/null 2>&1; then
  echo "== kvmctl host (this machine's libvirt, qemu:///system)"
  exec node bin/kvmctl -c qemu:///system host "$@"
fi

lab=${KVMCTL_LAB:-kvmlab}
echo "== no libvirt on this machine: bringing up the lab host '$lab' (scripts/lab.sh up)"
bash scripts/lab.sh up "$lab" >&2
uri=$(bash scripts/lab.sh uri "$lab")
netns=$(bash scripts/lab.sh netns "$lab")
echo "== kvmctl host (lab host: $uri, network namespace $netns)"
exec ip netns exec "$netns" node bin/kvmctl -c "$uri" host "$@"
