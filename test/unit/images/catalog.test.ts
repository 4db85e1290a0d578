/** The image catalog: built-in entries, images.json in the config directory, and what it refuses. */
import { describe, expect, it } from 'vitest';
import { configDir, loadCatalog } from '../../../src/images/catalog.js';

const H256 = 'a'.repeat(64);

describe('catalog', () => {
  const read = (files: Record<string, string>) => async (p: string) => files[p];
  it('has the distributions the documentation names, each with a checksum source', async () => {
    const names = (await loadCatalog({ KVMCTL_CONFIG_DIR: '/c' }, read({}))).map((e) => e.name);
    expect(names).toEqual(expect.arrayContaining(['debian-12', 'debian-13', 'ubuntu-24.04', 'ubuntu-22.04', 'fedora-41', 'almalinux-9', 'rocky-9', 'alpine-3.20', 'cirros-0.6']));
    for (const e of await loadCatalog({ KVMCTL_CONFIG_DIR: '/c' }, read({}))) {
      expect(e.url).toMatch(/^https:\/\//);
      expect(e.sums ?? e.checksum).toBeDefined();
    }
  });
  it('takes entries from images.json in the config directory, overriding built-ins by name', async () => {
    const file = JSON.stringify({ images: [{ name: 'debian-12', url: 'http://mirror.lan/d12.qcow2', checksum: `sha256:${H256}` }, { name: 'mine', url: 'https://x/y.img', sums: 'https://x/SHA256SUMS' }] });
    const cat = await loadCatalog({ KVMCTL_CONFIG_DIR: '/c' }, read({ '/c/images.json': file }));
    expect(cat.find((e) => e.name === 'debian-12')).toMatchObject({ url: 'http://mirror.lan/d12.qcow2', checksum: { algorithm: 'sha256', hex: H256 }, sums: undefined, origin: '/c/images.json' });
    expect(cat.find((e) => e.name === 'mine')).toMatchObject({ sums: 'https://x/SHA256SUMS' });
  });
  const bad: Array<[string, RegExp]> = [
    ['not json', /not valid JSON/],
    ['{}', /no "images" list/],
    [JSON.stringify({ images: [{ name: '../x', url: 'https://x/y' }] }), /not a valid image name/],
    [JSON.stringify({ images: [{ name: 'x', url: 'file:///etc/shadow', checksum: `sha256:${H256}` }] }), /uses file:/],
    [JSON.stringify({ images: [{ name: 'x', url: 'https://x/y' }] }), /names neither checksum nor sums/],
    [JSON.stringify({ images: [{ name: 'x', url: 'https://x/y', sums: 'ftp://x/SUMS' }] }), /uses ftp:/],
  ];
  for (const [text, message] of bad) {
    it(`refuses a config file with ${message.source}`, async () => {
      await expect(loadCatalog({ KVMCTL_CONFIG_DIR: '/c' }, read({ '/c/images.json': text }))).rejects.toThrow(message);
    });
  }
  it('lives in $KVMCTL_CONFIG_DIR, else /etc/kvmctl for root', () => {
    expect(configDir({ KVMCTL_CONFIG_DIR: '/x' })).toBe('/x');
    if (process.getuid?.() === 0) expect(configDir({})).toBe('/etc/kvmctl');
  });
});
