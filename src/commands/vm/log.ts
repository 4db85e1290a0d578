/**
 * `vm log NAME [--lines N] [-f]`: what the guest printed on its serial console,
 * from the log file `vm create` configures: readable by scripts, and after the
 * VM has stopped.
 */
import type { Context } from '../../context.js';
import { RefusedError } from '../../errors.js';
import { kvmctlCommand } from '../../exec/command.js';
import { domainCalls } from '../../libvirt/domain-commands.js';
import { parseDomainXml } from '../../libvirt/domain-xml.js';
import { isLocalUri } from '../../libvirt/storage.js';
import { flag, value, type OptionsOf } from '../../verb.js';
import { countOption } from '../../validate/count.js';
import { checkVmName, readVmState } from './domain-state.js';
import { followLog } from './log-follow.js';
import { vmVerb } from './vm-name.js';

const options = {
  lines: value('--lines <n>', 'only the last N lines'),
  follow: flag('-f, --follow', 'keep printing what the guest writes (as tail -f) until the VM stops (exit 0; Ctrl-C also ends it, exit 0)'),
};
export type LogOptions = OptionsOf<typeof options>;

export async function runVmLog(ctx: Context, name: string, opts: LogOptions): Promise<void> {
  checkVmName(name);
  const lines = countOption(opts.lines, '--lines', 1, 10_000_000);
  const def = await parseDomainXml(await ctx.virsh.run(domainCalls.dumpxml(name, true)));
  const file = def.serialLogs[0];
  if (file === undefined) {
    throw new RefusedError(
      `VM ${JSON.stringify(name)} keeps no serial log (its <serial> device has no <log file=…>; kvmctl vm create always adds one)`,
      `attach to its console instead: ${kvmctlCommand(ctx.uri, 'vm', 'console', name)}`,
    );
  }
  if (!isLocalUri(ctx.uri)) {
    throw new RefusedError(`the serial log of VM ${JSON.stringify(name)} is a file on the libvirt host (${file}); kvmctl reads it only for a local URI`, `read it on that host, e.g. ssh HOST tail -n 100 ${file}`);
  }
  if (opts.follow) return followLog(ctx, name, file, lines ?? 10);
  const text = await ctx.fs.read(file);
  if (text === undefined) {
    if (await ctx.fs.exists(file)) throw new RefusedError(`cannot read ${file} (the serial log of VM ${JSON.stringify(name)})`, 'run kvmctl as root, or as a user who may read the libvirt logs');
    // virtlogd creates the file when the VM starts.
    const { state } = await readVmState(ctx, name);
    ctx.out.info(`no output yet: ${file} is created when VM ${name} starts (it is ${state})`);
    if (ctx.out.json) ctx.out.printJson({ name, file, lines: [] });
    return;
  }
  // The guest writes CRLF line ends to the serial port.
  let all = text.replace(/\r\n/g, '\n').replace(/\n$/, '').split('\n');
  if (text === '') all = [];
  const shown = lines === undefined ? all : all.slice(-lines);
  if (ctx.out.json) return ctx.out.printJson({ name, file, lines: shown });
  if (shown.length > 0) ctx.out.raw(shown.join('\n'));
}

export const logCommand = vmVerb('log', 'print what the guest wrote on its serial console (the log vm create configures)', runVmLog, {
  options,
  examples: ['kvmctl vm log web1', 'kvmctl vm log web1 --lines 20', 'kvmctl vm log web1 -f'],
});
