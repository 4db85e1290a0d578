import { describe, expect, it } from 'vitest';
import { Output } from '../../../src/output/output.js';
import { memoryIO } from '../../../src/output/io.js';

const columns = [
  { header: 'NAME', value: (r: { name: string; sizeBytes: number; up: boolean }) => r.name },
  { header: 'SIZE', value: (r: { name: string; sizeBytes: number; up: boolean }) => r.sizeBytes },
  { header: 'UP', value: (r: { name: string; sizeBytes: number; up: boolean }) => r.up, color: (t: string, _r: unknown, c: { green: (s: string) => string }) => c.green(t) },
];
const rows = [
  { name: 'web1', sizeBytes: 1024, up: true },
  { name: 'db', sizeBytes: 0, up: false },
];

function output(opts: { format?: 'table' | 'json'; tty?: boolean; env?: Record<string, string>; color?: boolean; quiet?: boolean; dryRun?: boolean }) {
  const io = memoryIO(opts.env ?? {});
  io.stdoutIsTTY = opts.tty ?? false;
  return { io, out: new Output(io, { format: opts.format ?? 'table', quiet: opts.quiet ?? false, color: opts.color ?? true, dryRun: opts.dryRun }) };
}

describe('Output', () => {
  it('renders an aligned table without colour off a TTY', () => {
    const { io, out } = output({});
    out.list(columns, rows);
    expect(io.out).toBe('NAME  SIZE  UP\nweb1  1024  yes\ndb    0     no\n');
  });

  it('prints the raw objects as JSON, never table cells', () => {
    const { io, out } = output({ format: 'json' });
    out.list(columns, rows);
    expect(JSON.parse(io.out)).toEqual(rows);
    const empty = output({ format: 'json' });
    empty.out.list(columns, []);
    expect(empty.io.out).toBe('[]\n');
  });

  it('colours only on a TTY, and never with NO_COLOR or --no-color', () => {
    const tty = output({ tty: true });
    tty.out.list(columns, rows);
    expect(tty.io.out).toContain('\u001b[');
    for (const o of [output({ tty: true, env: { NO_COLOR: '1' } }), output({ tty: true, color: false }), output({ tty: false })]) {
      o.out.list(columns, rows);
      expect(o.io.out).not.toContain('\u001b[');
    }
  });

  it('done() prints a line, or the object with -o json; -q silences the line only', () => {
    const a = output({});
    a.out.done('vm web1 started', { name: 'web1', state: 'running' });
    expect(a.io.out).toBe('vm web1 started\n');
    const b = output({ format: 'json' });
    b.out.done('vm web1 started', { name: 'web1', state: 'running' });
    expect(JSON.parse(b.io.out)).toEqual({ name: 'web1', state: 'running' });
    const c = output({ quiet: true });
    c.out.done('vm web1 started', {});
    expect(c.io.out).toBe('');
  });

  it('with --dry-run every result line says nothing was changed; JSON is the object alone', () => {
    const a = output({ dryRun: true });
    a.out.done('network lab created', { name: 'lab' });
    expect(a.io.out).toBe('network lab created (dry run: nothing was changed)\n');
    const b = output({ dryRun: true, format: 'json' });
    b.out.done('network lab created', { name: 'lab' });
    expect(JSON.parse(b.io.out)).toEqual({ name: 'lab' });
  });

  it('warnings go to stderr', () => {
    const { io, out } = output({});
    out.warn('more vCPUs than host CPUs');
    expect(io.err).toBe('warning: more vCPUs than host CPUs\n');
    expect(io.out).toBe('');
  });
});

describe('processIO', () => {
  it('stops writing, without a crash, when the reader closes the pipe early (kvmctl ... | head)', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/unit/fixtures/epipe-writer.ts'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toBe('finished\n');
    expect(code).toBe(0);
  });
});
