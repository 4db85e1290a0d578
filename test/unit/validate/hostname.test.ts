/** Host name rules (src/validate/hostname.ts), and that every flag that takes a host name uses them. */
import { describe, expect, it } from 'vitest';
import { checkHostname, HOST_LABEL, HOSTNAME } from '../../../src/validate/hostname.js';
import { usageError } from '../../support/usage-error.js';
import { parseCreateFlags } from '../../../src/commands/vm/create-args.js';

const LABEL_63 = 'a'.repeat(63);

describe('HOSTNAME (dot-separated labels)', () => {
  it.each(['web1', 'WEB-1', 'a', '1', 'web1.lab.example', `${LABEL_63}.${LABEL_63}`, ['a'.repeat(61), 'b'.repeat(61), 'c'.repeat(61), 'd'.repeat(61)].join('.')])('accepts %j', (name) => {
    expect(HOSTNAME.test(name)).toBe(true);
  });

  it.each(['', '-web', 'web-', 'we_b', 'web..lab', '.web', 'web.', 'a;b', 'x y', 'é', 'a'.repeat(64), ['a'.repeat(63), 'b'.repeat(63), 'c'.repeat(63), 'd'.repeat(62)].join('.')])('refuses %j', (name) => {
    expect(HOSTNAME.test(name)).toBe(false);
  });
});

describe('HOST_LABEL (one label)', () => {
  it.each(['web1', 'A-1', LABEL_63])('accepts %j', (name) => {
    expect(HOST_LABEL.test(name)).toBe(true);
  });

  it.each(['web1.lab', '', '-a', 'a-', 'a'.repeat(64), 'a_b'])('refuses %j', (name) => {
    expect(HOST_LABEL.test(name)).toBe(false);
  });
});

describe('checkHostname', () => {
  it('returns a valid name; refuses another with the flag, the name and the rule', () => {
    expect(checkHostname('--hostname', 'web2.lab')).toBe('web2.lab');
    const e = usageError(() => checkHostname('--hostname', 'web 2'));
    expect(e.message).toBe('--hostname "web 2": not a valid host name');
    expect(e.hint).toBe('use letters, digits and "-", dot-separated labels of at most 63 characters');
  });
});

describe('vm create --hostname', () => {
  it('takes a dotted name and refuses one that is not, with the rule in the hint', () => {
    expect(parseCreateFlags('web1', { boot: 'kernel=/boot/vmlinuz', hostname: 'web1.lab.example' }).cloudInit).toMatchObject({ hostname: 'web1.lab.example' });
    expect(() => parseCreateFlags('web1', { boot: 'kernel=/boot/vmlinuz', hostname: 'web_1' })).toThrow('--hostname "web_1": not a valid host name');
  });
});
