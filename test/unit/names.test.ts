import { describe, expect, it } from 'vitest';
import { validateName } from '../../src/validate/names.js';
import { parseVolumeRef } from '../../src/storage/volume-ref.js';
import { UsageError } from '../../src/errors.js';

describe('validateName', () => {
  it.each(['web1', 'db_2.example', 'a;b', 'x y', 'Ünïcode'])('accepts %j (libvirt allows it; it never reaches a shell)', (name) => {
    expect(validateName('VM', name)).toBe(name);
  });

  it.each([
    ['', /empty/],
    ['a/b', /'\/'/],
    ['..', /relative/],
    ['.', /relative/],
    ['-rf', /starts with '-'/],
    ['a\nb', /control/],
    ['a\u0000b', /control/],
    [' lead', /white space/],
    ['x'.repeat(201), /longer than 200/],
  ])('rejects %j', (name, why) => {
    expect(() => validateName('volume', name)).toThrow(UsageError);
    expect(() => validateName('volume', name)).toThrow(why);
  });
});

describe('parseVolumeRef', () => {
  it('splits POOL/VOLUME', () => {
    expect(parseVolumeRef('default/web1.qcow2')).toEqual({ pool: 'default', volume: 'web1.qcow2' });
  });
  it.each(['web1.qcow2', '/web1', 'default/', 'a/b/c', 'default/..', '-p/v'])('rejects %j', (text) => {
    expect(() => parseVolumeRef(text)).toThrow(UsageError);
  });
});
