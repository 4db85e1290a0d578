/** The UsageError a validator throws, checked the way every refusal must be: exit 2 and a hint saying what to do. */
import { expect } from 'vitest';
import { ExitCode, UsageError } from '../../src/errors.js';

/** Runs fn and returns the UsageError it throws (failing the test if it throws nothing or something else). */
export function usageError(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    expect((e as UsageError).exitCode).toBe(ExitCode.Usage);
    expect((e as UsageError).hint, 'every refusal says what to do').toBeTruthy();
    return e as UsageError;
  }
  throw new Error('expected a UsageError, got none');
}
