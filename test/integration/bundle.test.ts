/** The built bundle as bin/bundle-loader.mjs reads it: latin1, which is the same text only while every byte is ASCII. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

describe('dist/kvmctl.cjs', () => {
  it('is ASCII: read as latin1 it is the text UTF-8 gives, names and messages with é or € included', () => {
    const bytes = readFileSync('dist/kvmctl.cjs');
    expect(bytes.findIndex((b) => b > 0x7f)).toBe(-1);
    expect(bytes.toString('latin1')).toBe(bytes.toString('utf8'));
    // Non-ASCII text in the sources reaches the bundle escaped, not dropped (the man page's em dashes, for one).
    expect(bytes.toString('latin1')).toMatch(/\\u20[0-9a-f]{2}/);
  });
});
