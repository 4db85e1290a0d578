/**
 * When the QEMU process of a domain started, read from /proc of this machine:
 * for a libvirt daemon on this machine (a local URI), the start of the
 * domain's current run whoever started it (virsh, autostart, kvmctl).
 * libvirt's API reports no such time; QEMU is found by the `-uuid UUID` that
 * libvirt puts on its command line.
 */
import type { LocalFs } from '../local-fs.js';

/** The kernel's clock ticks of /proc/PID/stat: USER_HZ, 100 on every Linux architecture kvmctl runs on. */
const USER_HZ = 100;

/** Field 22 of /proc/PID/stat (starttime, ticks after boot); the command name in parentheses may hold spaces. */
export function processStartTicks(stat: string): number | undefined {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields after the name start at field 3 (state): starttime is the 20th of them.
  const ticks = Number(fields[19]);
  return Number.isInteger(ticks) ? ticks : undefined;
}

/** "btime N" of /proc/stat: the boot time in seconds since the epoch. */
export function bootTimeSeconds(procStat: string): number | undefined {
  const m = /^btime (\d+)$/m.exec(procStat);
  return m ? Number(m[1]) : undefined;
}

/** True when the NUL-separated command line is a QEMU's with this -uuid. */
export function isQemuOf(cmdline: string, uuid: string): boolean {
  const argv = cmdline.split('\0');
  const i = argv.indexOf('-uuid');
  return i >= 0 && (argv[i + 1] ?? '').toLowerCase() === uuid.toLowerCase() && /qemu/.test(argv[0] ?? '');
}

/** The start (ms since the epoch) of the QEMU process running the domain of this uuid; undefined when none runs here. */
export async function qemuProcessStartMs(fs: LocalFs, uuid: string): Promise<number | undefined> {
  const btime = bootTimeSeconds((await fs.read('/proc/stat')) ?? '');
  if (btime === undefined) return undefined;
  for (const pid of await fs.list('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    if (!isQemuOf((await fs.read(`/proc/${pid}/cmdline`)) ?? '', uuid)) continue;
    const ticks = processStartTicks((await fs.read(`/proc/${pid}/stat`)) ?? '');
    // btime is whole seconds (rounded down): the result is at most a second early, never late.
    if (ticks !== undefined) return btime * 1000 + Math.floor((ticks * 1000) / USER_HZ);
  }
  return undefined;
}
