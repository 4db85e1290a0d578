/** vm wait (with fake timers: the polls run at once). */
import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../../src/exec/fake.js';
import { firstLook, LEASED, LEASES, NOT_LEASED, recordRun, runTimed, RUNNING, sequence, SHUTOFF, STATE, useFakeTime, WEB_LEASE_MADE_MS } from './vm-states.js';
import { parseOutput } from '../../../support/schemas.js';
import { mutations, newStateDir, recorded, runKvmctl, virshArgv } from '../../../support/harness.js';

useFakeTime();

describe('vm wait', () => {

  it('--for ip polls until the running VM has a lease, then prints it', async () => {
    const runner = firstLook(new FakeRunner(), 'w');
    sequence(runner, STATE('w'), [RUNNING, RUNNING]);
    // Not started by kvmctl, no QEMU of it in /proc here: a lease made while the wait watches is this run's.
    sequence(runner, LEASES, [NOT_LEASED, LEASED]);
    runner.stub(virshArgv('domifaddr', '--domain', 'w', '--source', 'agent'), { exitCode: 1, stderr: recorded('vm/err-virsh-domifaddr-agent-no-channel.stderr') }, Infinity);
    runner.stub(virshArgv('domifaddr', '--domain', 'w', '--source', 'arp'), { exitCode: 1, stderr: recorded('vm/err-virsh-domifaddr-arp.stderr') }, Infinity);
    const r = await runTimed(['vm', 'wait', 'w', '--for', 'ip'], runner);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^192\.168\.122\.\d+\n$/);
  });

  it('-o json: --for ip prints the name and address objects; --for running the state', async () => {
    const runner = firstLook(new FakeRunner(), 'w');
    sequence(runner, STATE('w'), [RUNNING, RUNNING, RUNNING]);
    sequence(runner, LEASES, [NOT_LEASED, LEASED]);
    runner.stub(virshArgv('domifaddr', '--domain', 'w', '--source', 'agent'), { exitCode: 1, stderr: recorded('vm/err-virsh-domifaddr-agent-no-channel.stderr') }, Infinity);
    runner.stub(virshArgv('domifaddr', '--domain', 'w', '--source', 'arp'), { exitCode: 1, stderr: recorded('vm/err-virsh-domifaddr-arp.stderr') }, Infinity);
    const ip = await runTimed(['-o', 'json', 'vm', 'wait', 'w', '--for', 'ip'], runner);
    expect(parseOutput(['vm', 'wait'], ip.out)).toEqual({ name: 'w', addresses: [{ address: expect.stringMatching(/^192\.168\.122\.\d+$/), prefix: 24, mac: expect.stringMatching(/^52:54:00(:[0-9a-f]{2}){3}$/), source: 'lease' }] });
    const up = await runTimed(['-o', 'json', 'vm', 'wait', 'w', '--for', 'running'], runner);
    expect(parseOutput(['vm', 'wait'], up.out)).toEqual({ name: 'w', state: 'running' });
    runner.verify();
  });

  it('--for ip and --for ready on a VM that is not running fail at once (exit 5) with its state; nothing is changed', async () => {
    for (const target of ['ip', 'ready']) {
      const runner = new FakeRunner().stub(STATE('w'), SHUTOFF);
      if (target === 'ready') runner.stub(virshArgv('dumpxml', '--domain', 'w', '--inactive'), { stdout: recorded('vm/virsh-dumpxml-off-inactive.xml') });
      const r = await runTimed(['vm', 'wait', 'w', '--for', target, '--timeout', '60'], runner);
      expect(r.code).toBe(5);
      expect(r.err).toMatch(new RegExp(`VM "w" is shutoff \\(shutdown\\): it cannot ${target === 'ip' ? 'get an address' : 'become ready'} until it runs\nhint: start it first: kvmctl vm start w`));
      expect(mutations(runner)).toEqual([]);
      runner.verify();
    }
  });

  describe('a VM with a cloud-init seed (the recorded first boot of the Debian 12 cloud image as its console)', () => {
    const LOG = '/var/tmp/kvmctl-lab/vm/pools/fxvm-pool/fxvm-web.serial.log';
    const BOOT = recorded('vm/serial-debian12-cloud-init.log');
    const UNTIL_INIT = BOOT.split('\n').filter((_, i, all) => i <= all.findIndex((l) => l.includes("running 'init' at"))).join('\n');
    const XML = virshArgv('dumpxml', '--domain', 'fxvm-web', '--inactive');
    const noAddress = (runner: FakeRunner) =>
      firstLook(runner, 'fxvm-web')
        .stub(LEASES, NOT_LEASED, Infinity)
        .stub(virshArgv('domifaddr', '--domain', 'fxvm-web', '--source', 'agent'), { exitCode: 1, stderr: recorded('vm/err-virsh-domifaddr-agent.stderr') }, Infinity)
        .stub(virshArgv('domifaddr', '--domain', 'fxvm-web', '--source', 'arp'), { exitCode: 1, stderr: recorded('vm/err-virsh-domifaddr-arp.stderr') }, Infinity);

    it('--for ip timing out names what the console showed of cloud-init', async () => {
      const runner = noAddress(new FakeRunner().stub(STATE('fxvm-web'), RUNNING, Infinity).stub(XML, { stdout: recorded('vm/virsh-dumpxml-web-inactive.xml') }));
      const r = await runTimed(['vm', 'wait', 'fxvm-web', '--for', 'ip', '--timeout', '3'], runner, { files: { [LOG]: UNTIL_INIT } });
      expect(r.code).toBe(6);
      expect(r.err).toMatch(
        /timed out after 3 s waiting for VM "fxvm-web" to get an IP address \(it is running; no address from lease, agent or arp yet\); cloud-init has not finished; its last console line: \[ +[\d.]+\] cloud-init\[\d+\]: Cloud-init v\. 22\.4\.2 running 'init' at .*\nhint: see the whole console with: kvmctl vm log fxvm-web/,
      );
      expect(mutations(runner)).toEqual([]);
    });

    it('--for ip timing out on a console without cloud-init says it did not run', async () => {
      const runner = noAddress(new FakeRunner().stub(STATE('fxvm-web'), RUNNING, Infinity).stub(XML, { stdout: recorded('vm/virsh-dumpxml-web-inactive.xml') }));
      const before = BOOT.slice(0, BOOT.indexOf('cloud-init'));
      const r = await runTimed(['vm', 'wait', 'fxvm-web', '--for', 'ip', '--timeout', '2'], runner, { files: { [LOG]: before } });
      expect(r.code).toBe(6);
      expect(r.err).toMatch(/; the serial log \(\/var\/tmp\/kvmctl-lab\/vm\/pools\/fxvm-pool\/fxvm-web\.serial\.log\) has no line from cloud-init: it did not run/);
    });

    it('--for ready: cloud-init finished, then the address; -o json has the final message', async () => {
      const runner = firstLook(new FakeRunner(), 'fxvm-web', 2).stub(STATE('fxvm-web'), RUNNING, Infinity).stub(XML, { stdout: recorded('vm/virsh-dumpxml-web-inactive.xml') }, 2).stub(LEASES, LEASED, Infinity);
      // kvmctl started this run a minute before the lease was made.
      const stateDir = newStateDir();
      await recordRun(stateDir, WEB_LEASE_MADE_MS - 60_000);
      const r = await runTimed(['vm', 'wait', 'fxvm-web', '--for', 'ready'], runner, { files: { [LOG]: BOOT }, stateDir });
      expect(r.code).toBe(0);
      expect(r.err).toBe('vm fxvm-web is ready: cloud-init finished 186 s after boot (DataSourceNoCloud), no problems reported\n');
      expect(r.out).toMatch(/^192\.168\.122\.\d+\n$/);
      const j = await runTimed(['-o', 'json', 'vm', 'wait', 'fxvm-web', '--for', 'ready'], runner, { files: { [LOG]: BOOT }, stateDir });
      expect(parseOutput(['vm', 'wait', 'fxvm-web'], j.out)).toMatchObject({ name: 'fxvm-web', ready: true, cloudInit: { upSeconds: 186.19, datasource: 'DataSourceNoCloud', problems: [] }, addresses: [expect.objectContaining({ source: 'lease' })] });
    });

    it('--for ready: cloud-init finished with a WARNING is exit 1 naming it; not finished is exit 6 with the last line', async () => {
      const runner = new FakeRunner().stub(STATE('fxvm-web'), RUNNING, Infinity).stub(XML, { stdout: recorded('vm/virsh-dumpxml-web-inactive.xml') }, Infinity);
      const warned = BOOT.replace(/(\n[^\n]*Cloud-init v\. 22\.4\.2 finished)/, '\n[  185.0] cloud-init[404]: 2026-12-01 21:48:14,001 - cc_scripts_user.py[WARNING]: Failed to run module scripts-user$1');
      const bad = await runTimed(['vm', 'wait', 'fxvm-web', '--for', 'ready'], runner, { files: { [LOG]: warned } });
      expect(bad.code).toBe(1);
      expect(bad.err).toMatch(/VM "fxvm-web": cloud-init finished with 1 problem: 2026-12-01 21:48:14,001 - cc_scripts_user\.py\[WARNING\]: Failed to run module scripts-user\nhint: read them in the guest \(cloud-init status --long/);
      const slow = await runTimed(['vm', 'wait', 'fxvm-web', '--for', 'ready', '--timeout', '2'], runner, { files: { [LOG]: UNTIL_INIT } });
      expect(slow.code).toBe(6);
      expect(slow.err).toMatch(/timed out after 2 s waiting for VM "fxvm-web" to be ready \(cloud-init finished\) \(cloud-init has not finished; its last console line: .*running 'init' at/);
      expect(mutations(runner)).toEqual([]);
    });
  });

  it('times out with exit 6, saying what it still waited for and the state it saw', async () => {
    const runner = new FakeRunner().stub(STATE('w'), SHUTOFF, Infinity);
    const start = Date.now();
    const r = await runTimed(['vm', 'wait', 'w', '--for', 'running', '--timeout', '5'], runner);
    expect(r.code).toBe(6);
    expect(r.err).toMatch(/timed out after 5 s waiting for VM "w" to be running \(it is shutoff \(shutdown\)\)\nhint: start it with: kvmctl vm start w/);
    expect(Date.now() - start).toBeGreaterThanOrEqual(5000);
    // A bounded interval: about one poll every 0.5 to 2 s.
    expect(runner.calls.length).toBeGreaterThanOrEqual(4);
    expect(runner.calls.length).toBeLessThanOrEqual(11);
  });

  it('Ctrl-C ends the wait at once (exit 130)', async () => {
    const controller = new AbortController();
    const runner = new FakeRunner().stub(STATE('w'), () => {
      controller.abort();
      return RUNNING;
    }, Infinity);
    const r = await runTimed(['vm', 'wait', 'w', '--for', 'shutoff'], runner, { signal: controller.signal });
    expect(r.code).toBe(130);
    expect(runner.calls).toHaveLength(1);
  });

  it('--for is required and checked', async () => {
    const r = await runKvmctl(['vm', 'wait', 'w', '--for', 'coffee'], new FakeRunner());
    expect(r.code).toBe(2);
    const t = await runKvmctl(['vm', 'wait', 'w', '--for', 'ip', '--timeout', 'soon'], new FakeRunner());
    expect([t.code, t.err]).toEqual([2, expect.stringMatching(/--timeout "soon"/)]);
  });
});
