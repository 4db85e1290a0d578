/**
 * `vm console NAME` (the serial console, on a terminal) and `vm log NAME`
 * (what the guest printed on it, from the log file `vm create` configures:
 * readable by scripts, and after the VM has stopped).
 */
import type { Context } from '../../context.js';
import { KvmctlError, RefusedError, UsageError } from '../../errors.js';
import { runInteractive } from '../../exec/interactive.js';
import { domainCommands } from '../../libvirt/domain-commands.js';
import { parseDomainXml } from '../../libvirt/domain-xml.js';
import { isLocalUri } from '../../libvirt/storage.js';
import { runVirsh } from '../../libvirt/virsh.js';
import { parseCount } from '../../validate/count.js';
import { checkVmName, readVmState } from './domain-state.js';
import { kvmctlCommand } from '../../exec/command.js';
import { followLog } from './log-follow.js';

export async function runVmConsole(ctx: Context, name: string): Promise<void> {
  checkVmName(name);
  if (!ctx.io.stdinIsTTY || !ctx.io.stdoutIsTTY) {
    throw new UsageError(
      `vm console needs a terminal: stdin and stdout of kvmctl are not a TTY`,
      `to read what the guest printed, use: ${kvmctlCommand(ctx.uri, 'vm', 'log', name)}`,
    );
  }
  const { state } = await readVmState(ctx, name);
  if (state !== 'running' && state !== 'paused') {
    throw new RefusedError(`VM ${JSON.stringify(name)} is ${state}: its console exists only while it runs`, `start it (${kvmctlCommand(ctx.uri, 'vm', 'start', name)}), or read its last output with: ${kvmctlCommand(ctx.uri, 'vm', 'log', name)}`);
  }
  ctx.out.info(`connected to the serial console of ${name}; press Ctrl+] to leave`);
  const code = await runInteractive(ctx.runner, domainCommands.console(ctx.uri, name));
  if (code !== 0) throw new KvmctlError(`virsh console for VM ${JSON.stringify(name)} exited with status ${code}`, 'another client may hold the console; close it, or run virsh console --force');
}

export async function runVmLog(ctx: Context, name: string, opts: { lines?: string; follow?: boolean }): Promise<void> {
  checkVmName(name);
  const lines = opts.lines === undefined ? undefined : parseCount(opts.lines, '--lines', 1, 10_000_000);
  const def = await parseDomainXml(await runVirsh(ctx.runner, domainCommands.dumpxml(ctx.uri, name, true), { kind: 'vm', name }));
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
