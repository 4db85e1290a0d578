/**
 * virsh argv builders, the virsh error classifier and the one-process batch.
 * Object names always travel as separate argv elements; inside a batch they are
 * quoted for virsh's own command-line parser.
 */
import { kvmctlCommand, mutatingCommand, readCommand, type Command, type CommandResult } from '../exec/command.js';
import { firstLine, ToolError, type Runner } from '../exec/runner.js';
import { ConflictError, KvmctlError, NotFoundError, RefusedError } from '../errors.js';

export type ObjectKind = 'vm' | 'network' | 'pool' | 'volume' | 'snapshot' | 'interface';

/** What a virsh call is about, so its errors can name the object. */
export interface Subject {
  kind: ObjectKind;
  name: string;
}

export function virshRead(uri: string, args: string[], extra: Partial<Command> = {}): Command {
  return readCommand('virsh', ['-c', uri, ...args], extra);
}

export function virshWrite(uri: string, args: string[], extra: Partial<Command> = {}): Command {
  return mutatingCommand('virsh', ['-c', uri, ...args], extra);
}

/** Runs a virsh command; on failure throws an error classified from virsh's message. */
export async function runVirsh(runner: Runner, cmd: Command, subject?: Subject, uri?: string): Promise<string> {
  const result = await runner.run(cmd);
  if (result.exitCode !== 0) throw classifyVirshError(cmd, result, subject, uri ?? uriOf(cmd));
  return result.stdout;
}

function uriOf(cmd: Command): string {
  const i = cmd.args.indexOf('-c');
  return i >= 0 ? (cmd.args[i + 1] ?? '') : '';
}

const KIND_LABEL: Record<ObjectKind, string> = {
  vm: 'VM',
  network: 'network',
  pool: 'storage pool',
  volume: 'volume',
  snapshot: 'snapshot',
  interface: 'interface',
};

const LIST_WORDS: Record<ObjectKind, string[]> = {
  vm: ['vm', 'list'],
  network: ['net', 'list'],
  pool: ['pool', 'list'],
  volume: ['volume', 'list'],
  snapshot: ['vm', 'snapshot', 'list', 'VM'],
  interface: ['bridge', 'list'],
};

/** The kvmctl command that lists objects of a kind on the same connection. */
function listHint(kind: ObjectKind, uri: string): string {
  return kvmctlCommand(uri, ...LIST_WORDS[kind]);
}

/** libvirt's messages for "no such object", by kind. */
const NOT_FOUND: Array<[RegExp, ObjectKind]> = [
  [/Domain not found|no domain with matching/i, 'vm'],
  [/Network not found|no network with matching/i, 'network'],
  [/Storage pool not found|no storage pool with matching/i, 'pool'],
  [/Storage volume not found|no storage vol(ume)? with matching/i, 'volume'],
  [/Domain snapshot not found|no domain snapshot with matching/i, 'snapshot'],
  // virsh 9 looks a domain up by id, uuid and name and prints only this line when all fail.
  [/failed to get domain '/i, 'vm'],
];

export function isUnreachable(stderr: string): boolean {
  return /failed to connect to the hypervisor|Failed to connect socket|Cannot recv data|End of file while reading data|no connection driver available/i.test(stderr);
}

/** Turns a failed virsh call into an error that names the object and the next step. */
export function classifyVirshError(cmd: Command, result: CommandResult, subject: Subject | undefined, uri: string): KvmctlError {
  const stderr = result.stderr;
  const detail = libvirtMessage(stderr);
  if (isUnreachable(stderr)) return unreachableError(uri, detail);
  for (const [pattern, kind] of NOT_FOUND) {
    if (pattern.test(stderr)) {
      const name = subject && subject.kind === kind ? subject.name : undefined;
      return new NotFoundError(
        `${KIND_LABEL[kind]} ${name !== undefined ? JSON.stringify(name) + ' ' : ''}not found (${detail})`,
        `list what exists with: ${listHint(kind, uri)}`,
        name !== undefined ? { object: { kind, name } } : undefined,
      );
    }
  }
  const what = subject ? `${KIND_LABEL[subject.kind]} ${JSON.stringify(subject.name)}` : 'libvirt';
  if (/already exists|exists already|already in use|is already defined/i.test(stderr)) {
    return new ConflictError(`${what}: ${detail}`, 'choose another name, or delete the existing object first', subject ? { object: { ...subject } } : undefined);
  }
  if (/Requested operation is not valid|Operation not supported|is not running|is already running|in use by/i.test(stderr)) {
    return new RefusedError(`${what}: ${detail}`, `check its state with: ${subject ? listHint(subject.kind, uri) : kvmctlCommand(uri, 'host')}`, subject ? { object: { ...subject } } : undefined);
  }
  const verb = cmd.args[0] === '-c' ? cmd.args[2] : cmd.args[0];
  return new ToolError(cmd, result, `${what}: virsh ${verb ?? ''} failed: ${detail}`, 'run with -v to see the exact virsh command', subject ? { ...subject } : undefined);
}

/** The daemon did not answer; `detail` is libvirt's own reason (host list shows it as is). */
export class UnreachableError extends RefusedError {
  constructor(
    uri: string,
    readonly detail: string,
  ) {
    super(
      `cannot reach libvirt at ${uri} (${detail})`,
      'start the daemon (systemctl start libvirtd, or virtqemud.socket on modular setups), check the URI given with -c/KVMCTL_URI, and that you may use its socket (root or the libvirt group)',
    );
  }
}

export function unreachableError(uri: string, detail: string): RefusedError {
  return new UnreachableError(uri, detail);
}

/** The most specific line of virsh's stderr, without the "error: " prefixes. */
export function libvirtMessage(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.replace(/^error:\s*/, '').trim())
    .filter((l) => l !== '');
  // virsh prints a generic line ("failed to get domain 'x'") before the specific one.
  return lines[lines.length - 1] ?? (firstLine(stderr) || 'unknown error');
}

// ---- one-process batches ---------------------------------------------------

const BATCH_SEPARATOR = 'KVMCTL-BATCH-SEPARATOR-d41d8cd9';

/** Quotes one word for virsh's command-string parser (POSIX-shell-like single quoting). */
export function quoteForVirsh(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * Linux refuses to start a program any one of whose arguments is longer than
 * MAX_ARG_STRLEN (32 pages, 131072 bytes with the final NUL) with E2BIG. A batch
 * is a single argument, so longer ones are cut into several, each below this.
 * Half that limit: virsh 9 keeps a copy of the rest of the line for every
 * command it parses from it, so its memory grows with the square of the
 * argument (5000 `dumpxml --xpath` calls: 165 MiB a process at 120 KB, 62 MiB
 * at 64 KB, for 7 and 12 processes).
 */
export const BATCH_ARG_BYTES = 64 * 1024;

const JOIN = ` ; echo ${BATCH_SEPARATOR} ; `;

function batchLine(commands: string[][]): string {
  return commands.map((argv) => argv.map(quoteForVirsh).join(' ')).join(JOIN);
}

/**
 * Runs several virsh commands in one process (constant subprocess count for
 * lists). virsh parses a single argument as a command line, so every word is
 * quoted; `echo` lines separate the outputs.
 */
export function virshBatch(uri: string, commands: string[][], mutates = false): Command {
  return (mutates ? mutatingCommand : readCommand)('virsh', ['-c', uri, batchLine(commands)]);
}

export interface BatchLimits {
  /** Bytes of one batch argument (default BATCH_ARG_BYTES). */
  bytes?: number;
  /** Commands in one batch (default: no limit); smaller batches report progress more often. */
  commands?: number;
}

/**
 * The commands cut into consecutive runs whose batch argument stays under the
 * limits: one virsh process per run, never one per command.
 */
export function chunkBatch(commands: string[][], limits: BatchLimits = {}): string[][][] {
  const maxBytes = limits.bytes ?? BATCH_ARG_BYTES;
  const maxCommands = limits.commands ?? Infinity;
  const joinBytes = Buffer.byteLength(JOIN);
  const chunks: string[][][] = [];
  let current: string[][] = [];
  let bytes = 0;
  for (const argv of commands) {
    const size = Buffer.byteLength(batchLine([argv]));
    if (size > maxBytes) {
      throw new KvmctlError(
        `a virsh command (${argv[0] ?? ''}) is ${size} bytes long, more than one program argument may hold (${maxBytes})`,
        'shorten the names it carries',
      );
    }
    if (current.length > 0 && (bytes + joinBytes + size > maxBytes || current.length >= maxCommands)) {
      chunks.push(current);
      current = [];
    }
    bytes = current.length === 0 ? size : bytes + joinBytes + size;
    current.push(argv);
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * The stdout of each batched command, in order. virsh runs every command even
 * after one fails and exits with the status of the last one, so callers treat
 * an empty section plus stderr as that command's failure.
 */
export function splitBatch(stdout: string, count: number): string[] {
  const parts = stdout.split(`${BATCH_SEPARATOR}\n`);
  while (parts.length < count) parts.push('');
  return parts.slice(0, count);
}

export interface BatchOptions extends BatchLimits {
  /** The commands change state (dry-run skips them). */
  mutates?: boolean;
  /** Once aborted, no further virsh process starts: the outputs end with the last batch that ran. */
  signal?: AbortSignal;
  /** Called after each virsh process with how many commands have run so far. */
  onProgress?: (done: number, total: number) => void;
  /** Kill each virsh process after this long (a host that may hang). */
  timeoutMs?: number;
  /**
   * Reads longer than one argument run in one interactive virsh fed on stdin
   * (Virsh.batch) rather than one process per argument, so that the count of
   * processes does not grow with the number of objects.
   */
  oneProcess?: boolean;
}

/**
 * Runs a batch, in as few virsh processes as the argument limits allow, one
 * after another; throws only when the daemon is unreachable or nothing ran.
 */
export async function runVirshBatch(runner: Runner, uri: string, commands: string[][], options: BatchOptions = {}): Promise<{ outputs: string[]; stderr: string }> {
  const outputs: string[] = [];
  let stderr = '';
  for (const chunk of chunkBatch(commands, options)) {
    if (options.signal?.aborted) break;
    const cmd = virshBatch(uri, chunk, options.mutates);
    const result = await runner.run(options.timeoutMs === undefined ? cmd : { ...cmd, timeoutMs: options.timeoutMs });
    if (isUnreachable(result.stderr)) throw unreachableError(uri, libvirtMessage(result.stderr));
    outputs.push(...splitBatch(result.stdout, chunk.length));
    stderr += result.stderr;
    options.onProgress?.(outputs.length, commands.length);
  }
  return { outputs, stderr };
}
