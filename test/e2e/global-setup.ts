/**
 * Brings the lab host up before the e2e tests (installing what it needs) and
 * takes it down afterwards, unless it was already up when the run started.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
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
  if (!existsSync('dist/kvmctl.mjs')) throw new Error('dist/kvmctl.mjs is missing: run npm run build first (npm test does)');
  const wasUp = isUp();
  if (!wasUp) lab('up', LAB_NAME);
  return () => {
    if (!wasUp && process.env.KVMCTL_LAB_KEEP !== '1') lab('down', LAB_NAME);
  };
}
