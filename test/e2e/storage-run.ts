/**
 * The built CLI run asynchronously (same environment as lab.ts's kvmctl), so a
 * long storage test never blocks the vitest worker's event loop: spawnSync for
 * many seconds in a row makes vitest's worker RPC time out.
 */
import { spawn } from 'node:child_process';
import { KVMCTL, lab, type RunResult } from './lab.js';
import { parseOutput } from '../support/schemas.js';

export function run(args: string[]): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn('ip', ['netns', 'exec', lab.netns, process.execPath, KVMCTL, '-c', lab.uri, ...args], {
      env: { ...process.env, NO_COLOR: '1', KVMCTL_URI: '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** run(... -o json), parsed and validated against the command's schema; fails the test with stderr when it does not exit 0. */
export async function runJson<T = any>(args: string[]): Promise<T> {
  const r = await run([...args, '-o', 'json']);
  if (r.code !== 0) throw new Error(`kvmctl ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return parseOutput<T>(args, r.stdout);
}
