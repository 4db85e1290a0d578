/**
 * virsh's interactive shell as one process for several rounds of reads: the
 * second round's commands can depend on the first round's output without a
 * second virsh process. `virsh -c URI` with no command reads command lines
 * from stdin through readline, which echoes each line after a `virsh # `
 * prompt on stdout (wrapped or scrolled when long), and prints errors on
 * stderr. So every command is fenced by markers that carry a random token:
 *
 *   echo 'TOKEN'-'B7' ; domiflist --domain 'web' ; echo 'TOKEN'-'E7'
 *   echo --err 'TOKEN'-'F7' ; echo 'TOKEN'-'F7'
 *
 * Its stdout is what lies between `TOKEN-B7` and `TOKEN-E7` (the quotes keep
 * the echoed line itself from ever holding either), its stderr what stderr
 * holds before `error: TOKEN-F7`, and the F line, which runs even when the
 * command's line fails to parse (virsh then runs nothing of that line), ends it
 * on both streams. Commands whose words hold control characters never go
 * through readline (it takes them as editing keys: a tab completes, ^A moves to
 * the start of the line, ESC starts a key sequence): they run in a batch.
 */
import { randomBytes } from 'node:crypto';
import { readCommand, type Command } from '../exec/command.js';
import type { Reply, Until } from '../exec/conversation.js';
import { quoteForVirsh } from './virsh.js';

/** readline's own defaults, whatever ~/.inputrc or /etc/inputrc bind (a macro on plain letters would rewrite names). */
const SESSION_ENV = { INPUTRC: '/dev/null' };

/**
 * The session's process: `virsh -c URI` reading commands from stdin. Its shell
 * keeps a history in $XDG_CACHE_HOME/libvirt/virsh/history (every line, names
 * and markers, into the user's own file; VIRSH_HISTSIZE=0 would empty that
 * file instead): a directory of its own takes it, removed when virsh exits.
 */
export function sessionCommand(uri: string): Command {
  return readCommand('virsh', ['-c', uri], { env: SESSION_ENV, privateDirs: ['XDG_CACHE_HOME'] });
}

/**
 * Whether a session may hold this URI. A per-user URI (qemu:///session) may make
 * virsh start the user's daemon, which would keep the session's private cache
 * directory for its own: those rounds run as batches.
 */
export function sessionAllowed(uri: string): boolean {
  return !/^[a-z0-9+]+:\/\/[^/]*\/session(\?|$)/i.test(uri);
}

/** A token no name can be guessed to hold: the markers of one session. */
export function newSessionToken(): string {
  return `KVMCTL-${randomBytes(12).toString('hex')}`;
}

/** The bytes readline edits instead of inserting (newlines are refused in names before they get here). */
const EDITING_KEYS = /[\u0000-\u001f\u007f]/;

/**
 * True when the words reach virsh's parser as typed and the shell still reads
 * the next line after them; false when the call must run outside the session.
 * `complete` closes virsh's stdin (virsh 9: the shell ends after it, nothing
 * further is read), so it runs in a batch too.
 */
export function typeable(words: string[]): boolean {
  return words[0] !== 'complete' && !words.some((w) => EDITING_KEYS.test(w));
}

/** `echo` of this, as typed: virsh prints TOKEN-TAG, the line as echoed never holds it. */
function marker(token: string, tag: string): string {
  return `'${token}'-'${tag}'`;
}

/** The lines that run commands first, first + 1, … of a session, each fenced by markers. */
export function roundInput(commands: string[][], token: string, first: number): string {
  return commands
    .map((words, i) => {
      const n = first + i;
      return `echo ${marker(token, `B${n}`)} ; ${words.map(quoteForVirsh).join(' ')} ; echo ${marker(token, `E${n}`)}\necho --err ${marker(token, `F${n}`)} ; echo ${marker(token, `F${n}`)}\n`;
    })
    .join('');
}

/** The end of a round whose last command is number `last`: its F marker on both streams. */
export function roundUntil(token: string, last: number): Until {
  const fence = `${token}-F${last}\n`;
  return { stdout: fence, stderr: fence };
}

const ERR_PREFIX = 'error: ';

/** The stdout and stderr of each command of a round (commands first … first + count - 1), from the round's reply. */
export function splitRound(reply: Reply, token: string, first: number, count: number): Reply[] {
  const parts: Reply[] = [];
  let out = 0;
  let err = 0;
  for (let n = first; n < first + count; n++) {
    const fence = `${token}-F${n}\n`;
    const outEnd = reply.stdout.indexOf(fence, out);
    const errEnd = reply.stderr.indexOf(fence, err);
    if (outEnd < 0 || errEnd < 0) throw new Error(`virsh session: the reply lacks the end of command ${n}`);
    const section = reply.stdout.slice(out, outEnd);
    const begin = `${token}-B${n}\n`;
    const b = section.indexOf(begin);
    const e = b < 0 ? -1 : section.indexOf(`${token}-E${n}\n`, b + begin.length);
    // `echo --err` prints `error: TOKEN-Fn`: the command's stderr ends where that prefix starts.
    const cut = errEnd - ERR_PREFIX.length >= err && reply.stderr.startsWith(ERR_PREFIX, errEnd - ERR_PREFIX.length) ? errEnd - ERR_PREFIX.length : errEnd;
    parts.push({ stdout: e < 0 ? '' : section.slice(b + begin.length, e), stderr: reply.stderr.slice(err, cut) });
    out = outEnd + fence.length;
    err = errEnd + fence.length;
  }
  return parts;
}

// ---- a stream: one batch too long for one argument, in one process ----------

/**
 * The stream's process: the shell, without its banner's cost mattering, with
 * a dumb terminal, so that readline echoes a long line as its last screenful
 * (a carriage return, never a newline) rather than whole.
 */
export function streamCommand(uri: string): Command {
  return readCommand('virsh', ['-c', uri], { env: { ...SESSION_ENV, TERM: 'dumb' }, privateDirs: ['XDG_CACHE_HOME'] });
}

/** What the shell prints before it reads each line (`virsh > ` only on a read-only connection, which kvmctl never opens). */
const PROMPT = 'virsh # ';

/**
 * Every command of a round on a line of its own, then one fence (the
 * round's number, as roundUntil takes it) on both streams. No marker per command: each line read prints the prompt and the
 * line's echo, so a command's stdout is what follows that echo up to the next
 * prompt. Markers cost readline a system call or three per byte, as much as
 * the commands themselves.
 */
export function streamInput(commands: string[][], token: string, round: number): string {
  const lines = commands.map((words) => `${words.map(quoteForVirsh).join(' ')}\n`).join('');
  return `${lines}echo --err ${marker(token, `F${round}`)} ; echo ${marker(token, `F${round}`)}\n`;
}

/**
 * The stdout of each of `count` commands from a stream round's stdout (up to
 * its fence; the first round's starts with virsh's banner), or undefined when it does not have one prompt a command and one for
 * the fence, each at the start of a line: an output that does not end its
 * last line, or holds a line starting with the prompt. The caller then runs
 * the commands as batches.
 */
export function splitStream(stdout: string, count: number): string[] | undefined {
  const prompts: number[] = [];
  for (let at = stdout.startsWith(PROMPT) ? 0 : nextPrompt(stdout, 0); at >= 0; at = nextPrompt(stdout, at + PROMPT.length)) prompts.push(at);
  if (prompts.length !== count + 1) return undefined;
  const outputs: string[] = [];
  for (let i = 0; i < count; i++) {
    const echoEnd = stdout.indexOf('\n', prompts[i]!);
    if (echoEnd < 0 || echoEnd > prompts[i + 1]!) return undefined;
    outputs.push(stdout.slice(echoEnd + 1, prompts[i + 1]!));
  }
  return outputs;
}

function nextPrompt(text: string, from: number): number {
  const at = text.indexOf(`\n${PROMPT}`, from - 1);
  return at < 0 ? -1 : at + 1;
}

/** A stream round's stderr without its fence (`error: TOKEN-Fn`). */
export function streamStderr(stderr: string, token: string, round: number): string {
  const fence = `${ERR_PREFIX}${token}-F${round}\n`;
  return stderr.endsWith(fence) ? stderr.slice(0, -fence.length) : stderr;
}
