/** Interface names by the kernel's rules. */
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../../src/errors.js';
import { validateLinkName } from '../../../src/net/link-name.js';

describe('validateLinkName (the kernel\'s rules)', () => {
  it.each([
    ['', 'it is empty'],
    ['abcdefghijklmnop', 'longer than 15 bytes'],
    ['brücke-eins-zwo', 'longer than 15 bytes'],
    ['a/b', "it contains '/'"],
    ['br:0', "it contains ':'"],
    ['br 0', 'it contains white space'],
    ['br\t0', 'it contains white space'],
    ['.', 'the kernel does not accept'],
    ['..', 'the kernel does not accept'],
    ['-br', "it starts with '-'"],
  ])('%j is refused: %s', (name, why) => {
    expect(() => validateLinkName('bridge', name)).toThrow(expect.objectContaining({ exitCode: ExitCode.Usage, message: expect.stringContaining(why) }));
  });

  it('accepts 15 bytes and the usual names', () => {
    for (const ok of ['br0', 'virbr10', 'abcdefghijklmno', 'br-lan.100', 'eth0_1']) expect(validateLinkName('interface', ok)).toBe(ok);
  });
});
