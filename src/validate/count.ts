/** Whole numbers given on the command line (--vcpus, --timeout, --port, --lines): the one rule and its message. */
import { UsageError } from '../errors.js';

/** A whole number from min to max; a UsageError (exit 2) naming the flag and the range otherwise. */
export function parseCount(text: string, flag: string, min: number, max: number): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < min || Number(text) > max) {
    throw new UsageError(`${flag} ${JSON.stringify(text)}: expected a whole number from ${min} to ${max}`, `e.g. ${flag} ${Math.max(min, 1)}`);
  }
  return Number(text);
}

/** parseCount of a flag that may be left out: `absent` then (undefined unless given). */
export function countOption(text: string | undefined, flag: string, min: number, max: number): number | undefined;
export function countOption(text: string | undefined, flag: string, min: number, max: number, absent: number): number;
export function countOption(text: string | undefined, flag: string, min: number, max: number, absent?: number): number | undefined {
  return text === undefined ? absent : parseCount(text, flag, min, max);
}
