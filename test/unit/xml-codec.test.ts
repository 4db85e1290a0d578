import { describe, expect, it } from 'vitest';
import { attr, child, decodeXml, el, encodeXml, path } from '../../src/libvirt/xml-codec.js';
import { UsageError } from '../../src/errors.js';

describe('xml codec', () => {
  it('escapes text and attributes so names cannot inject elements', async () => {
    const hostile = `a</name><devices><disk type='file'/></devices><name>b & "c"`;
    const xml = encodeXml(el('domain', { type: 'qemu' }, el('name', {}, hostile), el('source', { file: `/x'y"z<&>` })));
    expect(xml).not.toContain('<devices>');
    const root = await decodeXml(xml);
    expect(child(root, 'name')?.text).toBe(hostile);
    expect(attr(child(root, 'source'), 'file')).toBe(`/x'y"z<&>`);
    expect(root.children.map((c) => c.tag)).toEqual(['name', 'source']);
  });

  it('drops undefined attributes and children, keeps numbers and order within a tag', async () => {
    const xml = encodeXml(
      el('devices', {}, el('disk', { type: 'file', cache: undefined }, el('target', { dev: 'vda' })), null, el('disk', { type: 'file' }, el('target', { dev: 'vdb' })), el('vcpu', {}, 2)),
    );
    const root = await decodeXml(xml);
    expect(root.children.filter((c) => c.tag === 'disk').map((d) => attr(child(d, 'target'), 'dev'))).toEqual(['vda', 'vdb']);
    expect(attr(root.children[0], 'cache')).toBeUndefined();
    expect(child(root, 'vcpu')?.text).toBe('2');
  });

  it('refuses control characters, which XML 1.0 cannot carry', () => {
    expect(() => encodeXml(el('name', {}, 'a\u0001b'))).toThrow(UsageError);
    expect(() => encodeXml(el('source', { file: 'a\u001bb' }))).toThrow(/control characters/);
  });

  it('reads nested paths and mixed text', async () => {
    const root = await decodeXml(`<domain><os><type arch='x86_64'>hvm</type><kernel>/k</kernel></os></domain>`);
    expect(path(root, 'os', 'type')?.text).toBe('hvm');
    expect(attr(path(root, 'os', 'type'), 'arch')).toBe('x86_64');
    expect(path(root, 'os', 'missing', 'deeper')).toBeUndefined();
  });

  it('throws on malformed XML', async () => {
    await expect(decodeXml('<domain><name>x</domain>')).rejects.toThrow();
  });
});
