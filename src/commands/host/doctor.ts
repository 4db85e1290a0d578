import { flag, verb, type OptionsOf } from '../../verb.js';
import type { Context } from '../../context.js';
import { kvmctlCommand } from '../../exec/command.js';
import { abandonedEntries, forgetEntry, type JournalEntry } from '../../exec/journal.js';
import { addressCidr } from '../../net/ip.js';
import { kernelAddress } from '../../host/facts-json.js';
import { movesByPort, movesRecord, staleReason } from '../../net/bridge-moves.js';

/** A record of `bridge attach --move-address` that no longer matches the host. */
interface StaleMove {
  bridge: string;
  iface: string;
  addresses: string[];
  reason: string;
  fix: string;
}

/**
 * Move records whose port left the bridge or whose bridge holds none of what
 * was moved: they would steer a later detach. `--clear` forgets them. Reads
 * the links only when there are records.
 */
async function staleMoves(ctx: Context, clear: boolean): Promise<StaleMove[]> {
  const record = await movesRecord(ctx.stateDir);
  const moves = movesByPort(await record.load());
  if (Object.keys(moves).length === 0) return [];
  const links = await ctx.ip.links();
  const fix = kvmctlCommand(ctx.uri, 'host', 'doctor', '--clear');
  const stale = Object.values(moves).flatMap((m) => {
    const reason = staleReason(m, links);
    return reason === undefined ? [] : [{ bridge: m.bridge, iface: m.iface, addresses: m.addresses.map(addressCidr), reason, fix }];
  });
  if (clear && stale.length > 0 && !ctx.dryRun) {
    for (const s of stale) delete moves[s.iface];
    await record.save(moves);
  }
  return stale;
}

/** Lists operations that were killed midway, what they had created, and how to remove it; and stale move records. */
export const options = {
  clear: flag('--clear', 'forget the listed operations (after removing what they left)'),
};
export type HostDoctorOptions = OptionsOf<typeof options>;

export async function runHostDoctor(ctx: Context, opts: HostDoctorOptions): Promise<void> {
  // The journal holds things in the order they were made; they come off in the reverse order
  // (a pool's directory before its definition, a route before the address it goes through).
  const entries = (await abandonedEntries(ctx.stateDir)).map((e) => ({ ...e, leftovers: [...e.leftovers].reverse() }));
  const rows = entries.flatMap((e) => e.leftovers.map((l) => ({ entry: e, ...l })));
  if (opts.clear && !ctx.dryRun) await Promise.all(entries.map((e) => forgetEntry(e.file)));
  const stale = await staleMoves(ctx, Boolean(opts.clear));
  if (ctx.out.json) {
    return ctx.out.printJson({
      unfinished: entries.map((e) => ({ pid: e.pid, pidStartTime: e.pidStartTime ?? null, startedAt: e.startedAt, operation: e.operation, argv: e.argv, leftovers: e.leftovers })),
      staleMoveRecords: stale.map((m) => ({ ...m, addresses: m.addresses.map(kernelAddress) })),
      cleared: Boolean(opts.clear),
    });
  }
  for (const s of stale) {
    ctx.out.warn(
      `kvmctl's record of moving ${s.addresses.join(', ') || 'nothing'} from ${s.iface} to ${s.bridge} no longer matches this host: ${s.reason}; ` +
        (opts.clear ? 'forgot it' : `forget it with: ${s.fix}`),
    );
  }
  if (entries.length === 0) return ctx.out.done('no unfinished operations', {});
  ctx.out.list(
    [
      { header: 'STARTED', value: (r: { entry: JournalEntry }) => r.entry.startedAt },
      { header: 'OPERATION', value: (r: { entry: JournalEntry }) => r.entry.operation },
      { header: 'LEFT BEHIND', value: (r: { what: string }) => r.what },
      { header: 'REMOVE WITH', value: (r: { manual: string }) => r.manual },
    ],
    rows,
  );
  ctx.out.info(
    opts.clear
      ? `forgot ${entries.length} unfinished operation(s); remove what is listed above if it still exists`
      : `remove what is listed (if it still exists), in the order listed, then run: ${kvmctlCommand(ctx.uri, 'host', 'doctor', '--clear')}`,
  );
}

export const hostDoctorCommand = verb('doctor', 'list operations that were killed midway (SIGKILL, power loss), what they left and how to remove it', runHostDoctor, {
  options,
  examples: ['kvmctl host doctor', 'kvmctl host doctor --clear'],
});
