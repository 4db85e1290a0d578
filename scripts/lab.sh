#!/usr/bin/env bash
# kvmctl test lab: private libvirtd hosts in their own network + mount namespaces.
#
# Usage: scripts/lab.sh install|guest|cloud-image|up|down|status|uri|netns|guest-path|cloud-path [NAME]
# See docs/lab.md. Everything a lab creates (bridges, iptables rules, dnsmasq,
# sysctls, libvirt networks) lives inside the network namespace kvmctl-NAME; the
# machine's own network namespace is never touched.
set -euo pipefail

ROOT=${KVMCTL_LAB_ROOT:-/var/tmp/kvmctl-lab}
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
GUEST_SRC=$SCRIPT_DIR/guest
GUEST_DIR=$ROOT/guest
CLOUD_DIR=$ROOT/cloud
export LC_ALL=C

PACKAGES=(
  libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients libvirt-daemon-config-network
  qemu-system-x86 qemu-utils iproute2 iptables dnsmasq-base libxml2-utils
  linux-image-cloud-amd64 busybox-static cpio syslinux syslinux-common mtools
  dosfstools fdisk genisoimage xorriso virtinst man-db zsh fish debootstrap e2fsprogs
  openssh-client gnupg gpgv openssl curl
)

# Host directories that the lab daemon sees replaced by the lab's own folders.
# Order matters only for readability; each is a plain bind mount.
BIND_TARGETS=(run:/run/libvirt etc:/etc/libvirt lib:/var/lib/libvirt log:/var/log/libvirt cache:/var/cache/libvirt)

log() { printf 'lab: %s\n' "$*" >&2; }
die() { printf 'lab: error: %s\n' "$*" >&2; exit 2; }

need_root() {
  [ "$(id -u)" -eq 0 ] || die "must run as root (network namespaces, bind mounts, libvirtd)"
}

# ---------------------------------------------------------------- naming

set_lab() {
  NAME=${1:-${KVMCTL_LAB:-kvmlab}}
  [[ $NAME =~ ^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$ ]] ||
    die "invalid lab name '$NAME' (letters, digits, _ . -; at most 32 characters)"
  [ "$NAME" != guest ] || die "'guest' is reserved for the guest image folder ($GUEST_DIR)"
  L=$ROOT/$NAME
  NETNS=kvmctl-$NAME
  SOCK=$L/run/libvirt-sock
  URI="qemu+unix:///system?socket=$SOCK"
  # sun_path holds 108 bytes; libvirt also puts longer names beside the socket.
  [ "${#SOCK}" -le 100 ] || die "socket path too long (${#SOCK} > 100): $SOCK; use a shorter KVMCTL_LAB_ROOT"
}

# up and down of one lab never overlap; the lock file stays (removing it would
# let a waiting process lock a different file).
lock_lab() {
  mkdir -p "$ROOT"
  exec 9>"$ROOT/.lock-$NAME"
  flock -w 300 9 || die "timed out waiting for another up/down of lab $NAME"
}

virsh_lab() { timeout 30 virsh -q -c "$URI" "$@"; }

# ---------------------------------------------------------------- install

cmd_install() {
  need_root
  local missing=() p st
  for p in "${PACKAGES[@]}"; do
    st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$st" = installed ] || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  # libvirt-daemon-system would create these; the lab does without it (it wants systemd).
  getent group kvm >/dev/null || groupadd -r kvm
  getent group libvirt-qemu >/dev/null || groupadd -r libvirt-qemu
  getent passwd libvirt-qemu >/dev/null ||
    useradd -r -g kvm -G libvirt-qemu -d /var/lib/libvirt -s /usr/sbin/nologin libvirt-qemu
  # Mount points for the lab's bind mounts (empty directories on the host).
  mkdir -p /run/libvirt /etc/libvirt /var/lib/libvirt /var/log/libvirt /var/cache/libvirt
}

# ---------------------------------------------------------------- guest

guest_files_present() {
  local f
  for f in vmlinuz initrd.img disk.qcow2 BUILD-ID; do
    [ -s "$GUEST_DIR/$f" ] || return 1
  done
}

guest_complete() {
  guest_files_present && [ "$(cat "$GUEST_DIR/BUILD-ID")" = "$(guest_build_id)" ]
}

# Changes to the guest sources or a new cloud kernel trigger a rebuild.
guest_build_id() {
  local kernel
  kernel=$(find /boot -maxdepth 1 -name 'vmlinuz-*-cloud-amd64' | sort -V | tail -n 1)
  { basename "$kernel"; cat "$GUEST_SRC"/build.sh "$GUEST_SRC"/init "$GUEST_SRC"/udhcpc.script \
      "$GUEST_SRC"/poweroff.sh "$GUEST_SRC"/syslinux.cfg; } | sha256sum | cut -c1-16
}

# Any lab of this ROOT whose libvirtd is alive (their guests may use $GUEST_DIR).
running_labs() {
  local f pid
  for f in "$ROOT"/*/libvirtd.pid; do
    [ -f "$f" ] || continue
    pid=$(tr -dc '0-9' <"$f")
    if [ -z "$pid" ] || [ "$(cat "/proc/$pid/comm" 2>/dev/null)" != libvirtd ]; then continue; fi
    basename "$(dirname "$f")"
  done
}

# Build a cached folder once: DIR holds BUILD-ID when complete; a changed
# recipe rebuilds it unless labs are up (their overlays may use its disk).
build_cached() { # what dir lockname wait-s complete-fn present-fn id-fn build-command...
  local what=$1 dir=$2 lock=$3 wait=$4 complete=$5 present=$6 idfn=$7
  shift 7
  need_root
  mkdir -p "$ROOT"
  # One build at a time: labs started in parallel all come through here.
  exec 8>"$ROOT/.lock-$lock"
  flock -w "$wait" 8 || die "timed out waiting for another $what build ($ROOT/.lock-$lock)"
  if "$complete"; then
    log "$what present: $dir"
    exec 8>&-
    return 0
  fi
  local busy
  busy=$(running_labs | tr '\n' ' ')
  if "$present" && [ -n "$busy" ]; then
    # Overlays of its disk in those labs would silently change content.
    log "warning: $what sources changed, but labs are up ($busy); keeping the old $what."
    log "warning: rebuild with: scripts/lab.sh down NAME (each), then scripts/lab.sh $lock"
    exec 8>&-
    return 0
  fi
  local tmp=$dir.tmp.$$ old=$dir.old.$$ t0=$SECONDS
  rm -rf "$dir".tmp.* "$dir".old.*
  log "building $what into $dir"
  "$@" "$tmp"
  "$idfn" >"$tmp/BUILD-ID"
  # Rename into place: an interrupted build leaves only *.tmp.*, never a
  # folder without BUILD-ID.
  if [ -e "$dir" ]; then mv "$dir" "$old"; fi
  mv "$tmp" "$dir"
  rm -rf "$old"
  log "$what built in $((SECONDS - t0)) s: $dir"
  exec 8>&-
}

cmd_guest() {
  build_cached guest "$GUEST_DIR" guest 600 guest_complete guest_files_present guest_build_id "$GUEST_SRC/build.sh"
}

# ---------------------------------------------------------------- cloud image

cloud_present() { [ -s "$CLOUD_DIR/disk.qcow2" ] && [ -s "$CLOUD_DIR/BUILD-ID" ]; }
cloud_complete() { cloud_present && [ "$(cat "$CLOUD_DIR/BUILD-ID")" = "$(cloud_build_id)" ]; }
# The recipe is the whole build script (package list included).
cloud_build_id() { sha256sum <"$GUEST_SRC/cloud/build.sh" | cut -c1-16; }

# A Debian 12 cloud image (debootstrap; about 5 min) for the real-guest tests.
cmd_cloud_image() {
  cmd_install
  build_cached cloud-image "$CLOUD_DIR" cloud-image 1800 cloud_complete cloud_present cloud_build_id "$GUEST_SRC/cloud/build.sh"
}

# ---------------------------------------------------------------- processes

netns_inode() { stat -L -c %i "/run/netns/$NETNS" 2>/dev/null; }

# A pid counts as the lab's when it is alive, runs the expected program and sits in
# the lab's network namespace (recorded at `up`, so this works after the netns
# file is gone too). Guards against pid reuse after a stale pid file.
lab_pid() { # pidfile comm-regex -> prints pid or fails
  local file=$1 re=$2 pid comm ino want
  [ -f "$file" ] || return 1
  pid=$(tr -dc '0-9' <"$file")
  [ -n "$pid" ] && [ -d "/proc/$pid" ] || return 1
  comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
  [[ $comm =~ $re ]] || return 1
  ino=$(stat -L -c %i "/proc/$pid/ns/net" 2>/dev/null) || return 1
  want=$(cat "$L/netns.inode" 2>/dev/null || netns_inode || true)
  [ -n "$want" ] && [ "$ino" = "$want" ] || return 1
  echo "$pid"
}

stop_pid() { # pid what
  local pid=$1 what=$2 _
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 50); do
    [ -d "/proc/$pid" ] || { log "stopped $what ($pid)"; return 0; }
    sleep 0.2
  done
  log "$what ($pid) ignored SIGTERM; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  for _ in $(seq 1 25); do
    [ -d "/proc/$pid" ] || return 0
    sleep 0.2
  done
  log "warning: $what ($pid) still alive"
}

libvirtd_pid() { lab_pid "$L/libvirtd.pid" '^libvirtd$'; }
virtlogd_pid() { lab_pid "$L/virtlogd.pid" '^virtlogd$'; }

# The live processes named by the pid files in directory $1, each only if its name matches $2.
pids_in() {
  local f
  for f in "$1"/*.pid; do
    [ -e "$f" ] || continue
    lab_pid "$f" "$2" || true
  done
}

qemu_pids() { pids_in "$L/run/qemu" '^qemu-system'; }
dnsmasq_pids() { pids_in "$L/run/network" '^dnsmasq$'; }

any_lab_process() {
  libvirtd_pid >/dev/null || virtlogd_pid >/dev/null ||
    [ -n "$(qemu_pids)$(dnsmasq_pids)" ]
}

answers() { timeout 5 virsh -c "$URI" version >/dev/null 2>&1; }

# ---------------------------------------------------------------- up

# fresh=1: nothing of the lab runs, so whatever an earlier run left in the
# namespace (virbr0, vnetN, iptables rules) is stale and would make
# `net-start default` fail with "Network is already in use by interface virbr0".
ensure_netns() { # fresh
  local fresh=$1 left
  if [ -e "/run/netns/$NETNS" ]; then
    if [ "$fresh" = 1 ] || ! ip netns exec "$NETNS" true 2>/dev/null; then
      left=$(ip netns pids "$NETNS" 2>/dev/null | tr '\n' ' ' || true)
      [ -z "$left" ] || log "warning: processes not started by the lab remain in $NETNS: $left"
      log "recreating stale netns $NETNS"
      ip netns delete "$NETNS" 2>/dev/null || rm -f "/run/netns/$NETNS"
    fi
  fi
  [ -e "/run/netns/$NETNS" ] || ip netns add "$NETNS"
  ip netns exec "$NETNS" ip link set lo up
  netns_inode >"$L/netns.inode"
}

# The lab daemon's /etc/libvirt: only the daemon configuration files (*.conf) of the
# machine's /etc/libvirt, never its objects (qemu/*.xml domains, autostart links,
# networks, storage pools, secrets, nwfilters, hooks): a lab on a real KVM host must
# not know, let alone autostart, the host's VMs against the host's disk images.
# Its `default` network is defined from the package's own file (ensure_default_net).
CONFIG_MARK=.kvmctl-lab-config-only

copy_daemon_config() { # target
  local target=$1 f
  mkdir -p "$target"
  # -L -type f: a regular file or a link to one; no FIFOs, devices or directories.
  while IFS= read -r -d '' f; do
    cp -L "$f" "$target/"
  done < <(find -L /etc/libvirt -mindepth 1 -maxdepth 1 -name '*.conf' -type f -print0 2>/dev/null)
  # Logs go to the lab's log folder (there is no journald to catch stderr).
  printf '\n# kvmctl lab\nlog_outputs="3:file:/var/log/libvirt/libvirtd.log"\n' >>"$target/libvirtd.conf"
  printf '\n# kvmctl lab\nlog_outputs="3:file:/var/log/libvirt/virtlogd.log"\n' >>"$target/virtlogd.conf"
  : >"$target/$CONFIG_MARK"
}

ensure_folder() {
  mkdir -p "$L"
  if [ ! -f "$L/etc/$CONFIG_MARK" ]; then
    if [ -d "$L/etc" ] && any_lab_process; then
      log "warning: lab $NAME runs with a copy of the machine's whole /etc/libvirt (made by an older lab.sh); take it down and up again to drop it"
    else
      # Made under a temporary name, so that an interrupted copy is redone; a
      # folder from an older lab.sh (a copy of all of /etc/libvirt) is replaced.
      rm -rf "${L:?}/etc" "${L:?}/etc.tmp"
      copy_daemon_config "$L/etc.tmp"
      mv "$L/etc.tmp" "$L/etc"
    fi
  fi
  mkdir -p "$L/run" "$L/lib" "$L/log" "$L/cache" "$L/pools"
}

start_daemons() {
  local t script='set -e'
  for t in "${BIND_TARGETS[@]}"; do
    script+=" && mount --bind '$L/${t%%:*}' '${t#*:}'"
  done
  virtlogd_pid >/dev/null || script+=" && virtlogd -d -p '$L/virtlogd.pid'"
  # In traditional (non-systemd) mode --listen is what turns on listen_tcp (see listen).
  if grep -q '^# kvmctl lab: tcp$' "$L/etc/libvirtd.conf" 2>/dev/null; then
    script+=" && libvirtd -d --listen -p '$L/libvirtd.pid'"
  else
    script+=" && libvirtd -d -p '$L/libvirtd.pid'"
  fi
  log "starting virtlogd + libvirtd in netns $NETNS"
  # ip netns exec already gives a fresh mount namespace (it remounts /sys);
  # unshare makes sure none of the bind mounts propagate back to the host.
  # 8>&- 9>&-: the daemons must not inherit (and hold forever) the lab's locks.
  ip netns exec "$NETNS" unshare -m --propagation private sh -c "$script" 8>&- 9>&-
}

wait_answer() {
  local _
  for _ in $(seq 1 60); do
    answers && return 0
    sleep 0.5
  done
  die "libvirtd of lab $NAME does not answer on $URI after 30 s (see $L/log/libvirtd.log)"
}

ensure_default_net() {
  if ! virsh_lab net-info default >/dev/null 2>&1; then
    virsh_lab net-define /usr/share/libvirt/networks/default.xml >/dev/null
  fi
  virsh_lab net-autostart default >/dev/null
  if [ "$(virsh_lab net-info default | awk '$1 == "Active:" {print $2}')" != yes ]; then
    virsh_lab net-start default >/dev/null
  fi
}

cmd_up() {
  need_root
  cmd_install
  cmd_guest
  ensure_folder
  if libvirtd_pid >/dev/null; then
    ensure_netns 0
    if answers; then log "lab $NAME already up"; else log "libvirtd of lab $NAME runs; waiting for it"; fi
  elif any_lab_process; then
    # libvirtd died but guests or dnsmasq live on: keep their netns and run/ so
    # that the new libvirtd reconnects to them.
    log "libvirtd of lab $NAME is gone but some of its processes live; restarting it"
    ensure_netns 0
    start_daemons
  else
    # Nothing of the lab runs: netns contents and run/ are leftovers of a dead run.
    ensure_netns 1
    rm -rf "${L:?}/run" "$L/libvirtd.pid" "$L/virtlogd.pid"
    mkdir -p "$L/run"
    start_daemons
  fi
  wait_answer
  ensure_default_net
  echo "$URI"
}

# ---------------------------------------------------------------- down

cmd_down() {
  need_root
  local pid dom
  if [ ! -d "$L" ] && [ ! -e "/run/netns/$NETNS" ]; then
    log "lab $NAME is down"
    return 0
  fi
  if libvirtd_pid >/dev/null && answers; then
    while read -r dom; do
      [ -n "$dom" ] || continue
      if virsh_lab destroy "$dom" >/dev/null 2>&1; then log "destroyed domain $dom"; fi
    done < <(virsh_lab list --name 2>/dev/null || true)
  fi
  for pid in $(qemu_pids); do stop_pid "$pid" "qemu"; done
  if pid=$(libvirtd_pid); then stop_pid "$pid" libvirtd; fi
  # libvirtd leaves dnsmasq running when it exits; its pid files are in run/network.
  for pid in $(dnsmasq_pids); do stop_pid "$pid" dnsmasq; done
  if pid=$(virtlogd_pid); then stop_pid "$pid" virtlogd; fi
  if pid=$(sshd_pid); then stop_pid "$pid" sshd; fi
  free_links
  if [ -e "/run/netns/$NETNS" ]; then
    local left
    left=$(ip netns pids "$NETNS" 2>/dev/null | tr '\n' ' ' || true)
    [ -z "$left" ] || log "warning: processes not started by the lab remain in $NETNS: $left"
    ip netns delete "$NETNS"
    log "deleted netns $NETNS"
  fi
  if [ -d "$L" ]; then
    # Never delete through a mount point.
    if findmnt -rn -o TARGET | grep -q "^$L\(/\|$\)"; then
      die "something is mounted under $L; not removing it"
    fi
    rm -rf "$L"
    log "removed $L"
  fi
}

# ---------------------------------------------------------------- several hosts

# join A B: a veth between the two labs' namespaces (never the machine's), one
# /24 per pair: A is 10.77.K.1, B is 10.77.K.2. Prints "ADDR_A ADDR_B".
# K is taken atomically (mkdir) from ROOT/.fabric; down frees it.
cmd_join() { # A B
  need_root
  local a=$1 b=$2 na nb k f
  set_lab "$b"; nb=$NETNS
  set_lab "$a"; na=$NETNS
  [ -e "/run/netns/$na" ] || die "lab $a is not up"
  [ -e "/run/netns/$nb" ] || die "lab $b is not up"
  [ "$na" != "$nb" ] || die "cannot join lab $a to itself"
  mkdir -p "$ROOT/.fabric"
  # Already joined: the same link again.
  for f in "$ROOT"/.fabric/*/labs; do
    [ -f "$f" ] || continue
    k=$(basename "$(dirname "$f")")
    if [ "$(cat "$f")" = "$(printf '%s\n%s' "$a" "$b")" ] && ip -n "$na" link show "kf$k" >/dev/null 2>&1; then
      echo "10.77.$k.1 10.77.$k.2"
      return 0
    fi
  done
  for k in $(seq 1 250); do
    mkdir "$ROOT/.fabric/$k" 2>/dev/null && break
    [ "$k" -lt 250 ] || die "no free link number in $ROOT/.fabric"
  done
  printf '%s\n%s\n' "$a" "$b" >"$ROOT/.fabric/$k/labs"
  ip -n "$na" link add "kf$k" type veth peer name "kf$k" netns "$nb"
  ip -n "$na" addr add "10.77.$k.1/24" dev "kf$k"
  ip -n "$nb" addr add "10.77.$k.2/24" dev "kf$k"
  ip -n "$na" link set "kf$k" up
  ip -n "$nb" link set "kf$k" up
  echo "10.77.$k.1 10.77.$k.2"
}

# The links of a lab go with its netns; only their numbers are left to free.
free_links() {
  local f
  for f in "$ROOT"/.fabric/*/labs; do
    [ -f "$f" ] || continue
    if grep -qxF "$NAME" "$f"; then rm -rf "$(dirname "$f")"; fi
  done
}

SSHD_DIR=$ROOT/sshd

# openssh-server unpacked (not installed): installing it would start an sshd on
# the machine itself. Only its sshd binary is used, inside a lab namespace.
sshd_install() {
  local st tmp
  st=$(dpkg-query -W -f='${db:Status-Status}' libwrap0 2>/dev/null || true)
  if [ "$st" != installed ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libwrap0 >/dev/null
  fi
  if [ ! -x "$SSHD_DIR/usr/sbin/sshd" ]; then
    tmp=$(mktemp -d "$ROOT/.sshd.XXXXXX")
    (cd "$tmp" && apt-get download -qq openssh-server 2>/dev/null) || die "apt-get download openssh-server failed"
    dpkg-deb -x "$tmp"/openssh-server_*.deb "$tmp/x"
    rm -rf "$SSHD_DIR"
    mv "$tmp/x" "$SSHD_DIR"
    rm -rf "$tmp"
  fi
  # sshd's privilege separation user and directory (an empty mount point here).
  getent passwd sshd >/dev/null || useradd -r -d /run/sshd -s /usr/sbin/nologin sshd
  mkdir -p /run/sshd
}

sshd_pid() { lab_pid "$L/sshd.pid" '^sshd$'; }

# sshd NAME: an sshd in the lab's namespace, with the lab daemon's bind mounts,
# so that qemu+ssh://root@ADDR/system reaches this lab's libvirtd through
# virt-ssh-helper, and ip/iptables run over ssh see this lab's namespace.
# Key authentication only: L/ssh/client_key is the key to use; L/ssh/host_key.pub
# is what a known_hosts file must hold.
cmd_sshd() {
  need_root
  { [ -e "/run/netns/$NETNS" ] && libvirtd_pid >/dev/null; } || die "lab $NAME is not up"
  sshd_install
  if sshd_pid >/dev/null; then log "sshd of lab $NAME already runs"; return 0; fi
  local d=$L/ssh t script='set -e' _
  mkdir -p "$d/run"
  [ -f "$d/host_key" ] || ssh-keygen -q -t ed25519 -N '' -C "lab $NAME host" -f "$d/host_key"
  [ -f "$d/client_key" ] || ssh-keygen -q -t ed25519 -N '' -C "lab $NAME client" -f "$d/client_key"
  cp "$d/client_key.pub" "$d/authorized_keys"
  {
    echo "Port 22"
    echo "HostKey $d/host_key"
    echo "PidFile $L/sshd.pid"
    echo "AuthorizedKeysFile $d/authorized_keys"
    echo "PermitRootLogin prohibit-password"
    echo "PasswordAuthentication no"
    echo "KbdInteractiveAuthentication no"
    echo "UsePAM no"
    # The lab folder is under /var/tmp (world-writable), which StrictModes refuses.
    echo "StrictModes no"
    echo "LogLevel ERROR"
  } >"$d/sshd_config"
  for t in "${BIND_TARGETS[@]}"; do
    script+=" && mount --bind '$L/${t%%:*}' '${t#*:}'"
  done
  script+=" && mount --bind '$d/run' /run/sshd && '$SSHD_DIR/usr/sbin/sshd' -f '$d/sshd_config' -E '$L/log/sshd.log'"
  log "starting sshd in netns $NETNS"
  ip netns exec "$NETNS" unshare -m --propagation private sh -c "$script" 8>&- 9>&-
  for _ in $(seq 1 25); do
    sshd_pid >/dev/null && return 0
    sleep 0.2
  done
  die "sshd of lab $NAME did not start (see $L/log/sshd.log)"
}

# listen NAME ADDR: libvirtd also listens on TCP (no auth, no TLS) at ADDR inside
# the lab's namespace, with a host UUID of its own: two labs on one machine
# otherwise share the machine's DMI UUID, and libvirt refuses to migrate between
# "the same host". The settings stay in L/etc/libvirtd.conf, so a later up keeps them.
cmd_listen() { # ADDR
  need_root
  local addr=$1 pid
  [[ $addr =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "listen needs an IPv4 address of the lab's namespace, not '$addr'"
  libvirtd_pid >/dev/null || die "lab $NAME is not up"
  if ! grep -q '^# kvmctl lab: tcp$' "$L/etc/libvirtd.conf"; then
    printf '\n# kvmctl lab: tcp\nlisten_tls = 0\nlisten_tcp = 1\nauth_tcp = "none"\nlisten_addr = "%s"\nhost_uuid = "%s"\n' \
      "$addr" "$(cat /proc/sys/kernel/random/uuid)" >>"$L/etc/libvirtd.conf"
  else
    sed -i "s|^listen_addr = .*|listen_addr = \"$addr\"|" "$L/etc/libvirtd.conf"
  fi
  pid=$(libvirtd_pid) && stop_pid "$pid" libvirtd
  start_daemons
  wait_answer
}

# ---------------------------------------------------------------- status

cmd_status() {
  local pid up=0
  echo "lab:      $NAME"
  echo "uri:      $URI"
  echo "netns:    $NETNS$([ -e "/run/netns/$NETNS" ] || echo ' (absent)')"
  echo "folder:   $L$([ -d "$L" ] || echo ' (absent)')"
  if pid=$(libvirtd_pid) && answers; then up=1; fi
  echo "libvirtd: $(libvirtd_pid || echo -)"
  echo "virtlogd: $(virtlogd_pid || echo -)"
  echo "dnsmasq:  $(dnsmasq_pids | tr '\n' ' ')"
  echo "qemu:     $(qemu_pids | tr '\n' ' ')"
  if [ "$up" = 1 ]; then
    echo "state:    up"
    return 0
  fi
  echo "state:    down"
  return 1
}

# ---------------------------------------------------------------- main

usage() {
  cat <<EOF
usage: $0 COMMAND [NAME]
  install       apt-get install what the lab needs; create the libvirt users
  guest         build the test guest into \$ROOT/guest (once)
  up [NAME]     start lab NAME (default \${KVMCTL_LAB:-kvmlab}); prints its URI
  down [NAME]   stop lab NAME and remove everything it made
  status [NAME] show whether lab NAME is up (exit 0) or not (exit 1)
  uri [NAME]    print the libvirt URI of lab NAME
  netns [NAME]  print the network namespace of lab NAME
  guest-path    print the guest folder
  cloud-image   build a Debian 12 cloud image into \$ROOT/cloud (once; about 5 min)
  cloud-path    print the cloud image file
  join A B      link labs A and B with a veth (10.77.K.1 and .2); prints both addresses
  listen NAME ADDR  libvirtd of lab NAME also listens on TCP at ADDR, with a host UUID of its own
  sshd [NAME]   start an sshd in lab NAME's namespace (key auth; keys in ROOT/NAME/ssh)
ROOT=\${KVMCTL_LAB_ROOT:-/var/tmp/kvmctl-lab} (now $ROOT)
EOF
}

main() {
  local cmd=${1:-}
  [ $# -gt 0 ] && shift
  if [ "$cmd" = listen ]; then
    [ $# -eq 2 ] || { usage >&2; exit 2; }
    set_lab "$1"; lock_lab; cmd_listen "$2"
    return
  fi
  if [ "$cmd" = join ]; then
    [ $# -eq 2 ] || { usage >&2; exit 2; }
    cmd_join "$1" "$2"
    return
  fi
  [ $# -le 1 ] || { usage >&2; exit 2; }
  case $cmd in
    sshd) set_lab "${1:-}"; lock_lab; cmd_sshd ;;
    install) cmd_install ;;
    guest) cmd_guest ;;
    guest-path) echo "$GUEST_DIR" ;;
    cloud-image) cmd_cloud_image ;;
    cloud-path) echo "$CLOUD_DIR/disk.qcow2" ;;
    up) set_lab "${1:-}"; lock_lab; cmd_up ;;
    down) set_lab "${1:-}"; lock_lab; cmd_down ;;
    status) set_lab "${1:-}"; cmd_status ;;
    uri) set_lab "${1:-}"; echo "$URI" ;;
    netns) set_lab "${1:-}"; echo "$NETNS" ;;
    -h|--help|help) usage ;;
    *) usage >&2; exit 2 ;;
  esac
}

main "$@"
