import type { Context } from '../../context.js';
import { abandonedEntries, forgetEntry, type JournalEntry } from '../../exec/journal.js';

/** Lists operations that were killed midway, what they had created, and how to remove it. */
export async function runHostDoctor(ctx: Context, opts: { clear?: boolean }): Promise<void> {
  // The journal holds things in the order they were made; they come off in the reverse order
  // (a pool's directory before its definition, a route before the address it goes through).
  const entries = (await abandonedEntries(ctx.stateDir)).map((e) => ({ ...e, leftovers: [...e.leftovers].reverse() }));
  const rows = entries.flatMap((e) => e.leftovers.map((l) => ({ entry: e, ...l })));
  if (opts.clear && !ctx.dryRun) await Promise.all(entries.map((e) => forgetEntry(e.file)));
  const json = entries.map(({ file: _file, ...e }) => e);
  if (ctx.out.json) return ctx.out.printJson({ unfinished: json, cleared: Boolean(opts.clear) });
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
      : 'remove what is listed (if it still exists), in the order listed, then run: kvmctl host doctor --clear',
  );
}
