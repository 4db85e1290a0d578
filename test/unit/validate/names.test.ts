/** Names of libvirt objects as kvmctl accepts them for creation (src/validate/names.ts). */
import { describe, expect, it } from 'vitest';
import { validateName } from '../../../src/validate/names.js';
import { usageError } from '../../support/usage-error.js';

const SHELL = ['a;b', 'a|b', 'a&b', '`id`', '$(id)', 'x y', "it's", '"q"', 'a>b', 'a*', '~root', '!1'];

describe('validateName (VMs, pools, volumes, networks, snapshots)', () => {
  it.each([...SHELL, 'web1', 'db_2.example', 'Ünïcode', 'a'.repeat(200), '...a', 'a-'])('libvirt allows %j: accepted as it is (it never reaches a shell)', (name) => {
    expect(validateName('VM', name)).toBe(name);
  });

  it.each([
    ['', /it is empty/],
    ['a/b', /it contains '\/'/],
    ['../../etc/passwd', /it contains '\/'/],
    ['/etc', /it contains '\/'/],
    ['$(touch /tmp/pwned)', /it contains '\/'/],
    ['.', /relative path component/],
    ['..', /relative path component/],
    ['-rf', /starts with '-'/],
    ['--help', /starts with '-'/],
    ['a\nb', /control characters/],
    ['a\rb', /control characters/],
    ['a\u0000b', /control characters/],
    ['a\u001b[31mb', /control characters/],
    ['a\u007fb', /control characters/],
    [' lead', /white space/],
    ['trail\t', /control characters/],
    ['trail ', /white space/],
    ['x'.repeat(201), /longer than 200 bytes/],
    ['é'.repeat(101), /longer than 200 bytes/],
  ])('refuses %j', (name, why) => {
    const e = usageError(() => validateName('network', name));
    expect(e.message).toMatch(why);
    expect(e.message).toContain(`invalid network name ${JSON.stringify(name)}`);
  });

  it('a name with invalid UTF-8 (decoded by Node as U+FFFD) is refused for every kind', () => {
    const garbled = Buffer.from([0x61, 0xff, 0x62]).toString('utf8');
    for (const kind of ['VM', 'pool', 'volume', 'network', 'snapshot'] as const) {
      expect(usageError(() => validateName(kind, garbled)).message).toBe(`invalid ${kind} name ${JSON.stringify(garbled)}: it is not valid UTF-8 (or contains U+FFFD)`);
    }
  });
});
