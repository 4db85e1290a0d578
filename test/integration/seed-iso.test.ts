/**
 * NoCloud seed images made by the real genisoimage and xorriso (scripts/lab.sh
 * install installs both), read back with isoinfo.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RealRunner } from '../../src/exec/real-runner.js';
import { buildMetaData, buildUserData, SEED_ISO_TOOLS, writeSeedImage } from '../../src/libvirt/cloud-init.js';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHx1cD0ucVvcQNmYx9vM3Q0dyV3R5Z3n2mY1zR2w6h1a fx@kvmctl';

describe('seed images made by the real tools', () => {
  for (const tool of SEED_ISO_TOOLS) {
    it(`${tool}: label cidata, the three files under their own names, then the temporary folder is gone`, async () => {
      const files = { metaData: buildMetaData('iid-1', 'web1'), userData: buildUserData({ hostname: 'web1', sshKeys: [KEY] }), networkConfig: 'version: 2\n' };
      const image = await writeSeedImage(new RealRunner(), tool, files);
      try {
        expect(image.bytes).toBeGreaterThan(0);
        const pvd = execFileSync('isoinfo', ['-d', '-i', image.file], { encoding: 'utf8' });
        expect(pvd).toMatch(/^Volume id: cidata$/m);
        const names = execFileSync('isoinfo', ['-R', '-f', '-i', image.file], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();
        expect(names).toEqual(['/meta-data', '/network-config', '/user-data']);
        expect(execFileSync('isoinfo', ['-R', '-x', '/user-data', '-i', image.file], { encoding: 'utf8' })).toBe(files.userData);
      } finally {
        await image.dispose();
      }
      expect(existsSync(dirname(image.file))).toBe(false);
    });
  }
});
