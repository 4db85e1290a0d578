/**
 * `vm log NAME -f`: the last lines of the serial log, then what the guest
 * writes as it comes (as `tail -f`), until the VM is shut off or crashed
 * (exit 0, after what it wrote last) or Ctrl-C (exit 0). A log that shrinks
 * was started anew (virtlogd truncates it when the VM starts): it is read from
 * its beginning again.
 */
import { open, stat } from 'node:fs/promises';
import type { Context } from '../../context.js';
import { InterruptedError, RefusedError } from '../../errors.js';
import { lineSplitter } from '../../exec/stream.js';
import { readVmState } from './domain-state.js';
import { sleep } from './wait.js';

const READ_INTERVAL_MS = 250;
/** The VM's state is read once in this many file reads (one virsh call a second). */
const STATE_EVERY = 4;
const CHUNK = 64 * 1024;
const STOPPED = ['shutoff', 'crashed'];

/** Bytes from offset to the end of the file, or nothing when it is not a regular file (never a FIFO or device: a read could block or never end). */
async function readFrom(file: string, offset: number): Promise<{ bytes: Buffer; size: number } | undefined> {
  let st;
  try {
    st = await stat(file);
  } catch {
    return undefined;
  }
  if (!st.isFile()) throw new RefusedError(`${file} (the serial log) is not a regular file`, 'check the <log file=…> of the VM\'s serial device');
  if (st.size <= offset) return { bytes: Buffer.alloc(0), size: st.size };
  const fh = await open(file, 'r');
  try {
    const parts: Buffer[] = [];
    for (let at = offset; at < st.size; ) {
      const buf = Buffer.alloc(Math.min(CHUNK, st.size - at));
      const { bytesRead } = await fh.read(buf, 0, buf.length, at);
      if (bytesRead === 0) break;
      parts.push(buf.subarray(0, bytesRead));
      at += bytesRead;
    }
    return { bytes: Buffer.concat(parts), size: st.size };
  } finally {
    await fh.close();
  }
}

export async function followLog(ctx: Context, name: string, file: string, lastLines: number): Promise<void> {
  // The guest writes CRLF line ends to the serial port (CR CR LF from a tty that adds its own CR); a read may end between them.
  const lines = lineSplitter((raw) => {
    const l = raw.replace(/\r+$/, '');
    ctx.out.io.stdout(ctx.out.json ? JSON.stringify({ name, line: l }) + '\n' : l + '\n');
  });
  const push = (text: string) => lines.push(text);
  try {
    await follow(ctx, name, file, lastLines, push);
  } catch (err) {
    // Ctrl-C is how a follow is meant to end, also when it comes during a read.
    if (!(err instanceof InterruptedError) || !ctx.signal.aborted) throw err;
  }
  lines.flush();
}

async function follow(ctx: Context, name: string, file: string, lastLines: number, push: (text: string) => void): Promise<void> {
  ctx.out.info(`following ${file}; ends when VM ${name} stops (or Ctrl-C)`);
  const first = await readFrom(file, 0);
  let offset = first?.size ?? 0;
  const text = first?.bytes.toString('utf8') ?? '';
  // The last N whole lines, then the unfinished one as it goes on.
  const whole = text.slice(0, text.lastIndexOf('\n') + 1).split('\n').slice(0, -1);
  push(whole.slice(-lastLines).map((l) => l + '\n').join('') + text.slice(text.lastIndexOf('\n') + 1));
  let decoderCarry = Buffer.alloc(0);
  for (let tick = 0; ; tick++) {
    const checkState = tick % STATE_EVERY === 0;
    const state = checkState ? await readVmState(ctx, name) : undefined;
    const next = await readFrom(file, offset);
    if (next && next.size < offset) {
      offset = 0;
      decoderCarry = Buffer.alloc(0);
      continue;
    }
    if (next && next.bytes.length > 0) {
      offset = next.size;
      // A UTF-8 character cut at the end of this read is completed by the next one.
      const all = Buffer.concat([decoderCarry, next.bytes]);
      const cut = incompleteTail(all);
      decoderCarry = all.subarray(all.length - cut);
      push(all.subarray(0, all.length - cut).toString('utf8'));
    }
    // "shutdown" is a guest still shutting down: it may print more.
    if (state !== undefined && STOPPED.includes(state.state)) {
      ctx.out.info(`vm ${name} is ${state.state}${state.reason ? ` (${state.reason})` : ''}: end of its serial log`);
      return;
    }
    await sleep(READ_INTERVAL_MS, ctx.signal);
  }
}

/** How many bytes at the end of buf begin a UTF-8 sequence that is not complete yet. */
function incompleteTail(buf: Buffer): number {
  for (let back = 1; back <= Math.min(3, buf.length); back++) {
    const b = buf[buf.length - back] ?? 0;
    if ((b & 0xc0) === 0x80) continue;
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > back ? back : 0;
  }
  return 0;
}
