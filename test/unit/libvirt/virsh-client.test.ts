import { describe, expect, it } from 'vitest';
import { exitCodeOf } from '../../../src/errors.js';
import { domainCalls } from '../../../src/libvirt/domain-commands.js';
import { poolCalls } from '../../../src/libvirt/storage.js';
import { Virsh } from '../../../src/libvirt/virsh-client.js';
import { batchArgv, batchStdout, callArgv, FakeRunner, recorded, stubBatch, URI } from '../../support/harness.js';
import { stubChunked, stubOneProcess } from '../../support/storage.js';
import { streamCommand } from '../../../src/libvirt/virsh-session.js';

describe('Virsh client', () => {
  it('adds -c URI and classifies a failure against the call subject', async () => {
    const runner = new FakeRunner().stub(callArgv(poolCalls.start('nope')), { exitCode: 1, stderr: recorded('err-virsh-pool-info-nosuch.stderr') });
    const err = await new Virsh(runner, URI).run(poolCalls.start('nope')).catch((e: Error) => e);
    expect(exitCodeOf(err)).toBe(3);
    expect((err as Error).message).toMatch(/^storage pool "nope" not found/);
    expect(runner.calls[0]?.args.slice(0, 2)).toEqual(['-c', URI]);
  });

  it('answers a batch by key, lists in their order, whatever the order of the keys', async () => {
    const caps = recorded('vm/virsh-capabilities.xml');
    const runner = new FakeRunner();
    stubBatch(runner, [domainCalls.dumpxml('a', true), domainCalls.capabilities(), domainCalls.dominfo('x'), domainCalls.dominfo('y')], ['', caps, 'X', 'Y']);
    const out = await new Virsh(runner, URI).batch({ existing: domainCalls.dumpxml('a', true), caps: domainCalls.capabilities(), infos: [domainCalls.dominfo('x'), domainCalls.dominfo('y')] });
    expect(out).toEqual({ existing: '', caps, infos: ['X', 'Y'] });
  });

  it('answers a list of groups group by group, in the order the calls ran, an absent call answering nothing', async () => {
    const runner = new FakeRunner();
    stubBatch(runner, [domainCalls.dominfo('x'), domainCalls.dumpxml('x'), domainCalls.dominfo('y'), domainCalls.capabilities()], ['IX', 'DX', 'IY', 'C']);
    const out = await new Virsh(runner, URI).batch({
      vms: ['x', 'y'].map((n) => ({ info: domainCalls.dominfo(n), ...(n === 'x' ? { xml: domainCalls.dumpxml(n) } : {}) })),
      caps: domainCalls.capabilities(),
    });
    expect(out).toEqual({ vms: [{ info: 'IX', xml: 'DX' }, { info: 'IY' }], caps: 'C' });
  });

  it('an empty list answers an empty list', async () => {
    const runner = new FakeRunner().stub(batchArgv([domainCalls.capabilities()]), { stdout: batchStdout(['C']) });
    expect(await new Virsh(runner, URI).batch({ caps: domainCalls.capabilities(), vols: [] })).toEqual({ caps: 'C', vols: [] });
  });

  it('refuses a batch that mixes reads and writes (dry-run could not skip only the writes)', async () => {
    await expect(new Virsh(new FakeRunner(), URI).batch({ a: domainCalls.capabilities(), b: domainCalls.start('x') })).rejects.toThrow(/mixes reads and writes/);
  });

  it('manual() is the command a person would paste', () => {
    expect(new Virsh(new FakeRunner(), URI).manual(domainCalls.undefine('a b'))).toBe("virsh -c qemu:///system undefine --domain 'a b' --nvram --snapshots-metadata --checkpoints-metadata --managed-save");
  });
});

describe('Virsh client: a batch of reads longer than one argument (oneProcess)', () => {
  // 900 lines, so one stream round; over 64 KiB as one batch argument.
  const calls = Array.from({ length: 900 }, (_, i) => domainCalls.dumpxml(`stream-vm-with-a-long-name-${String(i).padStart(4, '0')}`));
  const words = calls.map((c) => c.words);
  const outputs = calls.map((_, i) => `<domain>\n  <name>stream-vm-${i}</name>\n</domain>\n\n`);

  it('runs in one interactive virsh, every answer by its command', async () => {
    const runner = new FakeRunner();
    stubOneProcess(runner, words, outputs);
    const out = await new Virsh(runner, URI).batch({ xml: calls }, { oneProcess: true });
    expect(out.xml).toEqual(outputs);
    expect(runner.calls.map((c) => c.args)).toEqual([streamCommand(URI).args]);
    runner.verify();
  });

  it('an answer holding a line that starts like the prompt cannot be split: the batch runs again as argument batches, nothing lost or shifted', async () => {
    const forged = outputs.map((o, i) => (i === 7 ? o.replace('</domain>', '</domain>\nvirsh # forged') : o));
    const runner = new FakeRunner();
    stubOneProcess(runner, words, forged);
    stubChunked(runner, words, outputs);
    const out = await new Virsh(runner, URI).batch({ xml: calls }, { oneProcess: true });
    expect(out.xml).toEqual(outputs);
    expect(runner.calls[0]?.args).toEqual(streamCommand(URI).args);
    expect(runner.calls.length).toBeGreaterThan(2);
    runner.verify();
  });
});
