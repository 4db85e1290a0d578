import type { Runner } from './exec/runner.js';
import type { IO } from './output/io.js';
import type { Output } from './output/output.js';
import type { LocalFs } from './local-fs.js';
import type { Transaction } from './exec/transaction.js';
import type { HostAccess } from './net/host-access.js';
import type { Virsh } from './libvirt/virsh-client.js';
import type { Ip } from './net/ip.js';
import type { Iptables } from './net/iptables.js';
import type { Sysctl } from './net/sysctl.js';

/** Everything a command's run function needs; built once per invocation from global options. */
export interface Context {
  /** The libvirt connection URI (-c, KVMCTL_URI, LIBVIRT_DEFAULT_URI, qemu:///system). */
  uri: string;
  /** How the host the URI names is reached for what libvirt does not report (bridges, firewall, sysctls). */
  hostAccess: HostAccess;
  runner: Runner;
  /** virsh on this connection: every libvirt call goes through it (src/libvirt/virsh-client.ts). */
  virsh: Virsh;
  /** ip (links, addresses, routes) of the host the URI names, through the runner. */
  ip: Ip;
  /** iptables of that host, through the runner. */
  iptables: Iptables;
  /** Its sysctls: read from /proc/sys through fs, written through the runner. */
  sysctl: Sysctl;
  out: Output;
  io: IO;
  fs: LocalFs;
  dryRun: boolean;
  verbose: boolean;
  /** Aborted on SIGINT/SIGTERM; multi-step operations roll back when it fires. */
  signal: AbortSignal;
  /** Hosts asked at once by -H and host list (--parallel). */
  parallel: number;
  /** Objects acted on at once by a verb given several names (--parallel; 1, in the order given, unless it is given). */
  objectsAtOnce: number;
  /** How long one host may take under -H and host list, and vm migrate's pre-check, before its programs are stopped (--host-timeout). */
  hostTimeoutMs: number;
  /** kvmctl's own state (locks, journal, nat records). */
  stateDir: string;
  /** A multi-step operation that undoes itself on failure or Ctrl-C, journalled against SIGKILL. */
  transaction(label: string): Transaction;
  /** Serialises work on one object across kvmctl processes (key: "vm web1"). */
  withLock<T>(key: string, fn: () => Promise<T>): Promise<T>;
}

/** What main() is given: the real process parts, or fakes in tests. */
export interface Deps {
  io: IO;
  runner: Runner;
  fs: LocalFs;
  /** Package version shown by --version. */
  version: string;
  /** Aborted on SIGINT/SIGTERM (never, in tests that do not abort it). */
  signal: AbortSignal;
  /** The command line, recorded in the journal of unfinished operations. */
  argv: string[];
}
