/**
 * Brings the lab host up before the e2e tests (installing what it needs) and
 * takes it down afterwards, unless it was already up when the run started.
 * kvmctl's own state (locks, journal) goes to a directory of this run, so the
 * tests neither see nor leave anything in the machine's /var/lib/kvmctl.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LAB_NAME, LAB_SCRIPT } from './lab.js';

function lab(...args: string[]): string {
  return execFileSync('bash', [LAB_SCRIPT, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
}

function isUp(): boolean {
  try {
    lab('status', LAB_NAME);
    return true;
  } catch {
    return false;
  }
}

export default function setup(): () => void {
  if (!existsSync('dist/kvmctl.cjs')) throw new Error('dist/kvmctl.cjs is missing: run npm run build first (npm test does)');
  const stateDir = mkdtempSync(join(tmpdir(), 'kvmctl-e2e-state-'));
  process.env.KVMCTL_STATE_DIR ??= stateDir;
  const wasUp = isUp();
  if (!wasUp) lab('up', LAB_NAME);
  return () => {
    if (!wasUp && process.env.KVMCTL_LAB_KEEP !== '1') lab('down', LAB_NAME);
    rmSync(stateDir, { recursive: true, force: true });
  };
}
