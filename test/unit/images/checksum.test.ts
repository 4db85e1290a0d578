/** Digests given with --checksum, and SUMS files (GNU and BSD styles) that list an image. */
import { describe, expect, it } from 'vitest';
import { digestFromSums, parseChecksum } from '../../../src/images/checksum.js';

const H256 = 'a'.repeat(64);

const H512 = 'b'.repeat(128);

describe('checksums', () => {
  it('parses sha256: and sha512: digests, lower-casing the hex', () => {
    expect(parseChecksum('--checksum', `sha256:${'A'.repeat(64)}`)).toEqual({ algorithm: 'sha256', hex: H256 });
    expect(parseChecksum('--checksum', `sha512:${H512}`)).toEqual({ algorithm: 'sha512', hex: H512 });
  });
  for (const bad of ['md5:' + 'a'.repeat(32), 'sha256:' + 'a'.repeat(63), 'sha512:' + H256, 'sha256:' + 'g'.repeat(64), H256, 'sha256:', '']) {
    it(`refuses ${JSON.stringify(bad.slice(0, 20))} (exit 2 class)`, () => {
      expect(() => parseChecksum('--checksum', bad)).toThrow(/invalid --checksum/);
    });
  }

  // Layouts as Debian (SHA512SUMS), Ubuntu and CirrOS (SHA256SUMS, "*name"), and Fedora/Alma/Rocky (BSD CHECKSUM) publish them.
  const gnu = `${H512}  debian-12-genericcloud-amd64.json\n${'c'.repeat(128)}  debian-12-genericcloud-amd64.qcow2\n`;
  const star = `${'d'.repeat(64)} *noble-server-cloudimg-amd64.img\n${'e'.repeat(64)} *noble-server-cloudimg-arm64.img\n`;
  const bsd = `# Fedora-Cloud-41-1.4-x86_64-CHECKSUM\n-----BEGIN PGP SIGNED MESSAGE-----\nSHA256 (Fedora-Cloud-Base-Generic-41-1.4.x86_64.qcow2) = ${'f'.repeat(64)}\n`;
  it('finds the entry in GNU, binary-marked and BSD layouts', () => {
    expect(digestFromSums(gnu, 'debian-12-genericcloud-amd64.qcow2')).toEqual({ algorithm: 'sha512', hex: 'c'.repeat(128) });
    expect(digestFromSums(star, 'noble-server-cloudimg-amd64.img')).toEqual({ algorithm: 'sha256', hex: 'd'.repeat(64) });
    expect(digestFromSums(bsd, 'Fedora-Cloud-Base-Generic-41-1.4.x86_64.qcow2')).toEqual({ algorithm: 'sha256', hex: 'f'.repeat(64) });
  });
  it('has no answer for a file it does not list, a prefix of a listed name, or a name listed with two digests', () => {
    expect(digestFromSums(gnu, 'debian-12.qcow2')).toBeUndefined();
    expect(digestFromSums(gnu, 'debian-12-genericcloud-amd64')).toBeUndefined();
    expect(digestFromSums(`${H256}  x.img\n${'9'.repeat(64)}  x.img\n`, 'x.img')).toBeUndefined();
  });
  it('prefers sha512 when both are listed', () => {
    expect(digestFromSums(`${H256}  x.img\n${H512}  x.img\n`, 'x.img')).toEqual({ algorithm: 'sha512', hex: H512 });
  });
});
