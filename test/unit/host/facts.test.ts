/**
 * gatherHostFacts states the failures a report can carry (daemon or host not
 * answering, a tool missing or too slow) and throws everything else: a bug in
 * kvmctl must never read as "libvirt unreachable".
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { gatherHostFacts } from '../../../src/host/facts.js';
import { FakeRunner } from '../../../src/exec/fake.js';
import { CommandTimeoutError, MissingToolError } from '../../../src/exec/runner.js';
import type { Command } from '../../../src/exec/command.js';
import { testContext } from '../../support/harness.js';

const rec = (f: string) => readFileSync(new URL(`../../fixtures/recorded/${f}`, import.meta.url), 'utf8');
/** The virsh session libvirt's facts are read in (`virsh -c URI`, fed in rounds). */
const isSession = (c: Command) => c.program === 'virsh' && c.args.length === 2;
const ip = ['ip', '-j', '-d', 'addr', 'show'];

/** virsh answers its first round as `virsh` says: it exits with that status and stderr, or the runner throws. */
function runner(virsh: () => never | { stderr: string; exitCode: number }, iptables: (c: Command) => never | { stdout?: string } = () => ({ stdout: '' })): FakeRunner {
  return new FakeRunner().stubConversation(isSession, () => virsh(), 1).stub(ip, { stdout: '[]' }).stub(['iptables-save'], iptables);
}

describe('gatherHostFacts: which failures become a note in the report', () => {
  it('a daemon that does not answer is reported unreachable (recorded virsh stderr)', async () => {
    const r = runner(() => ({ exitCode: 1, stderr: rec('err-virsh-unreachable.stderr') }));
    const f = await gatherHostFacts(testContext(r).ctx);
    expect(f.libvirt.reachable).toBe(false);
    expect(f.libvirt.error).toMatch(/^cannot reach libvirt at qemu:\/\/\/system \(.*Failed to connect socket/);
    r.verify();
  });

  it('virsh not installed is reported unreachable with the package to install', async () => {
    const r = runner(() => {
      throw new MissingToolError('virsh');
    });
    const f = await gatherHostFacts(testContext(r).ctx);
    expect(f.libvirt).toMatchObject({ reachable: false, error: 'virsh is not installed (needed to run this command)' });
  });

  it('a tool that times out is a note in its section, the rest is still read', async () => {
    const r = runner(
      () => ({ exitCode: 1, stderr: rec('err-virsh-unreachable.stderr') }),
      (c) => {
        throw new CommandTimeoutError({ ...c, timeoutMs: 5000 });
      },
    );
    const f = await gatherHostFacts(testContext(r).ctx);
    expect(f.nat.error).toBe('iptables-save did not finish within 5000 ms');
    expect(f.bridges).toEqual([]);
    expect(f.bridgesError).toBeUndefined();
  });

  it('a programming error while reading libvirt is thrown, not reported as "unreachable"', async () => {
    const r = runner(() => {
      throw new TypeError("Cannot read properties of undefined (reading 'trim')");
    });
    await expect(gatherHostFacts(testContext(r).ctx)).rejects.toThrow(TypeError);
  });

  it('a programming error while reading iptables is thrown too', async () => {
    const r = runner(
      () => ({ exitCode: 1, stderr: rec('err-virsh-unreachable.stderr') }),
      () => {
        throw new RangeError('Invalid array length');
      },
    );
    await expect(gatherHostFacts(testContext(r).ctx)).rejects.toThrow(RangeError);
  });
});
