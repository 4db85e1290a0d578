/** vm ssh (fake runner; ssh argv only). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PassedExitStatus } from '../../../../src/errors.js';
import type { Command } from '../../../../src/exec/command.js';
import { FakeRunner } from '../../../../src/exec/fake.js';
import { runVmSsh } from '../../../../src/commands/vm/ssh.js';
import { firstLook, LEASED, LEASES, recordRun, WEB_LEASE_MADE_MS } from './vm-states.js';
import { testContext, URI } from '../../../support/harness.js';

describe('vm ssh (fake runner; ssh argv only)', () => {
  const vmFixture = (file: string) => readFileSync(join('test/fixtures/recorded/vm', file), 'utf8');
  // What vm create --ssh-key K.pub --ssh-user debian records now, in the recorded definition of fxvm-web.
  const withLogin = vmFixture('virsh-dumpxml-web-inactive.xml').replace(
    '<kvmctl:seed pool="fxvm-pool" volume="fxvm-web-seed.iso"/>',
    '<kvmctl:seed pool="fxvm-pool" volume="fxvm-web-seed.iso"/><kvmctl:ssh key="/root/.ssh/id_ed25519" user="debian"/>',
  );

  class InteractiveFake extends FakeRunner {
    readonly interactive: Command[] = [];
    constructor(private readonly status: number) {
      super();
    }
    async runInteractive(cmd: Command): Promise<number> {
      this.interactive.push(cmd);
      return this.status;
    }
  }

  // One look at the addresses of the current run; kvmctl did not start it and it is not on this machine's /proc: what is leased is taken.
  const reads = <R extends FakeRunner>(fake: R, xml = withLogin): R => {
    firstLook(fake, 'fxvm-web')
      .stub(['virsh', '-c', URI, 'domstate', '--domain', 'fxvm-web', '--reason'], { stdout: vmFixture('virsh-domstate-web.txt') })
      .stub(['virsh', '-c', URI, 'dumpxml', '--domain', 'fxvm-web', '--inactive'], { stdout: xml })
      .stub(LEASES, LEASED);
    return fake;
  };

  it('the recorded key and user, kvmctl\'s known_hosts under the uuid, -- before the address, the command as argv; ssh\'s status passed through', async () => {
    const fake = reads(new InteractiveFake(255));
    const { ctx } = testContext(fake, { files: { '/root/.ssh/id_ed25519': 'private' } });
    const err = await runVmSsh(ctx, 'fxvm-web', ['echo', '$(id)', 'a;b'], {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PassedExitStatus);
    expect((err as PassedExitStatus).exitCode).toBe(255);
    fake.verify();
    expect(fake.interactive.map((c) => [c.program, ...c.args])).toEqual([
      ['ssh', '-o', 'StrictHostKeyChecking=accept-new', '-o', `UserKnownHostsFile=${ctx.stateDir}/ssh_known_hosts`, '-o', 'HostKeyAlias=kvmctl-vm-c8f98b6e-f22d-45c8-8360-6a6c3b6c2207', '-i', '/root/.ssh/id_ed25519', '-l', 'debian', '--', '192.168.122.17', 'echo', '$(id)', 'a;b'],
    ]);
  });

  it('--user, -i and --port win; a recorded key that is gone is left to ssh with a warning; exit 0 is no error', async () => {
    const fake = reads(new InteractiveFake(0));
    const { ctx, io } = testContext(fake);
    await runVmSsh(ctx, 'fxvm-web', [], { user: 'admin', identity: '/k/other', port: '2222' });
    expect(fake.interactive[0]?.args.slice(6)).toEqual(['-i', '/k/other', '-l', 'admin', '-p', '2222', '--', '192.168.122.17']);
    const again = reads(new InteractiveFake(0));
    const second = testContext(again);
    await runVmSsh(second.ctx, 'fxvm-web', ['true'], {});
    expect(again.interactive[0]?.args).not.toContain('-i');
    expect(second.io.err).toContain('the key recorded for VM fxvm-web (/root/.ssh/id_ed25519) is not there');
    expect(io.err).toBe('');
  });

  it('after kvmctl started a new run, the lease of the run before is not used: exit 1, no address yet, ssh is not run', async () => {
    const fake = new InteractiveFake(0);
    firstLook(fake, 'fxvm-web')
      .stub(['virsh', '-c', URI, 'domstate', '--domain', 'fxvm-web', '--reason'], { stdout: vmFixture('virsh-domstate-web.txt') })
      .stub(['virsh', '-c', URI, 'dumpxml', '--domain', 'fxvm-web', '--inactive'], { stdout: withLogin })
      .stub(LEASES, LEASED)
      .stub(['virsh', '-c', URI, 'domifaddr', '--domain', 'fxvm-web', '--source', 'agent'], { exitCode: 1, stderr: vmFixture('err-virsh-domifaddr-agent-no-channel.stderr') })
      .stub(['virsh', '-c', URI, 'domifaddr', '--domain', 'fxvm-web', '--source', 'arp'], { exitCode: 1, stderr: vmFixture('err-virsh-domifaddr-arp.stderr') });
    const { ctx } = testContext(fake);
    // Started a minute after the recorded lease was made: that lease is the previous run's.
    await recordRun(ctx.stateDir, WEB_LEASE_MADE_MS + 60_000);
    await expect(runVmSsh(ctx, 'fxvm-web', [], {})).rejects.toMatchObject({ exitCode: 1, message: 'VM "fxvm-web" has no IP address yet (asked: lease, agent, arp)' });
    expect(fake.interactive).toEqual([]);
    fake.verify();
  });

  it('a user name that could be an option, or user@host, is exit 2 before anything runs', async () => {
    for (const user of ['-oProxyCommand=x', 'root@evil', 'a b', '', '$(id)']) {
      const fake = new InteractiveFake(0);
      const { ctx } = testContext(fake);
      await expect(runVmSsh(ctx, 'fxvm-web', [], { user })).rejects.toMatchObject({ exitCode: 2 });
      expect(fake.calls).toEqual([]);
    }
  });
});
