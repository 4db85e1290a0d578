#!/usr/bin/env bash
# `npm start`: build kvmctl and print a real host report on the private lab host
# (scripts/lab.sh: packages, libvirtd in its own network and mount namespace).
# The machine's own libvirt is never asked: on a real KVM host its domains,
# networks and pools are the host's business (run `node bin/kvmctl host` for them).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

[ -f dist/kvmctl.cjs ] || npm run --silent build

lab=${KVMCTL_LAB:-kvmlab}
echo "== bringing up the lab host '$lab' (scripts/lab.sh up)"
bash scripts/lab.sh up "$lab" >&2
uri=$(bash scripts/lab.sh uri "$lab")
netns=$(bash scripts/lab.sh netns "$lab")
echo "== kvmctl host (lab host: $uri, network namespace $netns)"
exec ip netns exec "$netns" node bin/kvmctl -c "$uri" host "$@"
