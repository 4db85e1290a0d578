/** --parallel and --host-timeout, shared by -H and host list. */
import { UsageError } from '../errors.js';

export const DEFAULT_PARALLEL = 8;
export const DEFAULT_HOST_TIMEOUT_S = 15;

export function parseParallel(text: string | undefined): number {
  if (text === undefined) return DEFAULT_PARALLEL;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 256) throw new UsageError(`invalid --parallel ${JSON.stringify(text)}`, 'use a whole number from 1 to 256');
  return n;
}

export function parseHostTimeout(text: string | undefined): number {
  if (text === undefined) return DEFAULT_HOST_TIMEOUT_S * 1000;
  const n = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || n <= 0 || n > 3600) throw new UsageError(`invalid --host-timeout ${JSON.stringify(text)}`, 'use seconds, more than 0 and at most 3600');
  return Math.round(n * 1000);
}

