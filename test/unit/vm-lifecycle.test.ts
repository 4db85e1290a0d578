/**
 * Lifecycle verbs, vm ip, vm wait and vm stop (with fake timers: the polls
 * run at once), vm console and vm log.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Command } from '../../src/exec/command.js';
import { FakeRunner } from '../../src/exec/fake.js';
import { POOL_DIR, mutations, recorded, runKvmctl, short, stubBatch, virshArgv, type VmTestOptions } from './vm-harness.js';

const STATE = (name: string) => virshArgv('domstate', '--domain', name, '--reason');
const RUNNING = { stdout: 'running (booted)\n\n' };
const SHUTOFF = { stdout: 'shut off (shutdown)\n\n' };
const PAUSED = { stdout: 'paused (user)\n\n' };
const NOT_FOUND = { exitCode: 1, stderr: recorded('err-virsh-domifaddr-nosuch.stderr') };

/** Answers the same argv differently on each call (the last answer repeats). */
/** The reads of vm start's base-image check on a host with no other VMs and no pools. */
function emptyInventory(runner: FakeRunner): FakeRunner {
  stubBatch(runner, [['domstats', '--raw', '--state'], ['list', '--all', '--autostart', '--name']], ['', '']);
  return stubBatch(runner, [['pool-list', '--all', '--name']], ['']);
}

function sequence(runner: FakeRunner, argv: string[], answers: Array<{ stdout?: string; stderr?: string; exitCode?: number }>): FakeRunner {
  let i = 0;
  return runner.stub(argv, () => answers[Math.min(i++, answers.length - 1)] ?? {}, Infinity);
}

/** Runs kvmctl while fake time moves on, so poll loops finish without real waiting. */
async function runTimed(argv: string[], runner: FakeRunner, o: VmTestOptions = {}) {
  let done = false;
  const p = runKvmctl(argv, runner, o).finally(() => {
    done = true;
  });
  while (!done) await vi.advanceTimersByTimeAsync(250);
  return p;
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('start, reboot, suspend, resume, destroy, autostart', () => {
  const verbs: Array<{ argv: string[]; state: object; runs?: string; out: RegExp; code?: number }> = [
    { argv: ['vm', 'start', 'w'], state: SHUTOFF, runs: 'virsh start --domain w', out: /^vm w started\n$/ },
    { argv: ['vm', 'start', 'w'], state: RUNNING, out: /^vm w unchanged \(already running\)\n$/ },
    { argv: ['vm', 'reboot', 'w'], state: RUNNING, runs: 'virsh reboot --domain w --mode acpi', out: /asked to reboot/ },
    { argv: ['vm', 'reboot', 'w'], state: SHUTOFF, out: /cannot reboot VM "w": it is shutoff\nhint: start it instead/, code: 5 },
    { argv: ['vm', 'suspend', 'w'], state: RUNNING, runs: 'virsh suspend --domain w', out: /suspended/ },
    { argv: ['vm', 'suspend', 'w'], state: PAUSED, out: /unchanged \(already paused\)/ },
    { argv: ['vm', 'suspend', 'w'], state: SHUTOFF, out: /cannot suspend VM "w": it is shutoff/, code: 5 },
    { argv: ['vm', 'resume', 'w'], state: PAUSED, runs: 'virsh resume --domain w', out: /resumed/ },
    { argv: ['vm', 'resume', 'w'], state: RUNNING, out: /unchanged \(already running\)/ },
    { argv: ['vm', 'resume', 'w'], state: SHUTOFF, out: /cannot resume VM "w": it is shutoff/, code: 5 },
    { argv: ['vm', 'destroy', 'w'], state: RUNNING, runs: 'virsh destroy --domain w', out: /powered off \(destroyed; its disks and definition are kept\)/ },
    { argv: ['vm', 'destroy', 'w'], state: SHUTOFF, out: /unchanged \(already shutoff\)/ },
  ];
  for (const v of verbs) {
    it(`${v.argv.slice(1).join(' ')} when ${(v.state as { stdout: string }).stdout.split(' ')[0]}`, async () => {
      const runner = new FakeRunner().stub(STATE('w'), v.state);
      if (v.runs) runner.stub(v.runs.split(' ').slice(0, 1).concat(['-c', 'qemu:///system'], v.runs.split(' ').slice(1)), {});
      if (v.runs === 'virsh start --domain w') emptyInventory(runner);
      const r = await runKvmctl(v.argv, runner);
      expect(r.code).toBe(v.code ?? 0);
      expect(v.code ? r.err : r.out).toMatch(v.out);
      expect(mutations(runner)).toEqual(v.runs ? [v.runs] : []);
      runner.verify();
    });
  }

  it('a VM that does not exist is exit 3 naming it, for every verb', async () => {
    for (const verb of ['start', 'stop', 'reboot', 'suspend', 'resume', 'destroy', 'delete']) {
      const runner = new FakeRunner().stub(STATE('nosuch'), NOT_FOUND);
      const r = await runKvmctl(['vm', verb, 'nosuch'], runner);
      expect(r.code).toBe(3);
      expect(r.err).toMatch(/VM "nosuch" not found[\s\S]*hint: list what exists with: kvmctl vm list/);
    }
  });

  it('odd names reach virsh as one argv element, a leading - after --', async () => {
    for (const name of ['a;b', 'x y', '-x', "q'u"]) {
      const runner = emptyInventory(new FakeRunner().stub(STATE(name), SHUTOFF).stub(virshArgv('start', '--domain', name), {}));
      const r = await runKvmctl(['vm', 'start', '--', name], runner);
      expect(r.code).toBe(0);
      runner.verify();
    }
  });

  it('autostart: reads the flag, sets it, or says unchanged', async () => {
    const on = new FakeRunner().stub(virshArgv('dominfo', '--domain', 'fxvm-off'), { stdout: recorded('virsh-dominfo-off.txt') }).stub(virshArgv('autostart', '--domain', 'fxvm-off'), {});
    expect((await runKvmctl(['vm', 'autostart', 'fxvm-off'], on)).out).toBe('vm fxvm-off: autostart enabled\n');
    on.verify();
    const same = new FakeRunner().stub(virshArgv('dominfo', '--domain', 'fxvm-off'), { stdout: recorded('virsh-dominfo-off.txt') });
    expect((await runKvmctl(['vm', 'autostart', 'fxvm-off', '--disable'], same)).out).toBe('vm fxvm-off unchanged (autostart already disabled)\n');
    expect(mutations(same)).toEqual([]);
  });
});

describe('vm ip', () => {
  const LEASE = virshArgv('domifaddr', '--domain', 'fxvm-web', '--source', 'lease');
  const AGENT = virshArgv('domifaddr', '--domain', 'fxvm-web', '--source', 'agent');
  const ARP = virshArgv('domifaddr', '--domain', 'fxvm-web', '--source', 'arp');
  const EMPTY = { stdout: ' Name       MAC address          Protocol     Address\n-------------------------------------------------------------------------------\n\n' };

  it('prints the leased address alone, for $(kvmctl vm ip NAME)', async () => {
    const runner = new FakeRunner().stub(LEASE, { stdout: recorded('virsh-domifaddr-lease.txt') });
    const r = await runKvmctl(['vm', 'ip', 'fxvm-web'], runner);
    expect(r.out).toMatch(/^192\.168\.122\.\d+\n$/);
    expect(r.code).toBe(0);
  });

  it('any: falls through a source that cannot answer (no guest agent) to the next', async () => {
    const arp = ' Name       MAC address          Protocol     Address\n---\n vnet4      52:54:00:f1:00:01    ipv4         192.168.1.50/24\n';
    const runner = new FakeRunner().stub(LEASE, EMPTY).stub(AGENT, { exitCode: 1, stderr: recorded('err-virsh-domifaddr-agent.stderr') }).stub(ARP, { stdout: arp });
    const r = await runKvmctl(['vm', 'ip', 'fxvm-web', '-o', 'json'], runner);
    expect(JSON.parse(r.out)).toEqual([{ interface: 'vnet4', mac: '52:54:00:f1:00:01', protocol: 'ipv4', address: '192.168.1.50', prefix: 24, source: 'arp' }]);
    runner.verify();
  });

  it('an explicit source that fails is its error; no address at all is exit 1 with the way to wait', async () => {
    const agent = new FakeRunner().stub(AGENT, { exitCode: 1, stderr: recorded('err-virsh-domifaddr-agent.stderr') });
    const a = await runKvmctl(['vm', 'ip', 'fxvm-web', '--source', 'agent'], agent);
    expect(a.code).toBe(1);
    expect(a.err).toMatch(/Guest agent is not responding/);
    const none = new FakeRunner().stub(LEASE, EMPTY).stub(AGENT, { exitCode: 1, stderr: 'error: Guest agent is not responding\n' }).stub(ARP, EMPTY);
    const b = await runKvmctl(['vm', 'ip', 'fxvm-web'], none);
    expect(b.code).toBe(1);
    expect(b.err).toMatch(/VM "fxvm-web" has no IP address yet \(asked: lease, agent, arp\)\nhint: wait for one with: kvmctl vm wait fxvm-web --for ip/);
  });

  it('a shut-off VM is exit 5 after one call', async () => {
    const runner = new FakeRunner().stub(virshArgv('domifaddr', '--domain', 'fxvm-off', '--source', 'lease'), { exitCode: 1, stderr: recorded('err-virsh-domifaddr-shutoff.stderr') });
    const r = await runKvmctl(['vm', 'ip', 'fxvm-off'], runner);
    expect(r.code).toBe(5);
    expect(r.err).toMatch(/VM "fxvm-off": .*domain is not running/);
    expect(runner.calls).toHaveLength(1);
  });
});

describe('vm wait', () => {
  const LEASE = virshArgv('domifaddr', '--domain', 'w', '--source', 'lease');

  it('--for ip polls until the running VM has a lease, then prints it', async () => {
    const runner = new FakeRunner();
    sequence(runner, STATE('w'), [RUNNING, RUNNING]);
    sequence(runner, LEASE, [{ stdout: '' }, { stdout: recorded('virsh-domifaddr-lease.txt') }]);
    runner.stub(virshArgv('domifaddr', '--domain', 'w', '--source', 'agent'), { exitCode: 1, stderr: 'error: argument unsupported: QEMU guest agent is not configured\n' }, Infinity);
    runner.stub(virshArgv('domifaddr', '--domain', 'w', '--source', 'arp'), { stdout: '' }, Infinity);
    const r = await runTimed(['vm', 'wait', 'w', '--for', 'ip'], runner);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^192\.168\.122\.\d+\n$/);
  });

  it('--for ip and --for ready on a VM that is not running fail at once (exit 5) with its state; nothing is changed', async () => {
    for (const target of ['ip', 'ready']) {
      const runner = new FakeRunner().stub(STATE('w'), SHUTOFF);
      if (target === 'ready') runner.stub(virshArgv('dumpxml', '--domain', 'w', '--inactive'), { stdout: recorded('virsh-dumpxml-off-inactive.xml') });
      const r = await runTimed(['vm', 'wait', 'w', '--for', target, '--timeout', '60'], runner);
      expect(r.code).toBe(5);
      expect(r.err).toMatch(new RegExp(`VM "w" is shutoff \\(shutdown\\): it cannot ${target === 'ip' ? 'get an address' : 'become ready'} until it runs\nhint: start it first: kvmctl vm start w`));
      expect(mutations(runner)).toEqual([]);
      runner.verify();
    }
  });

  describe('a VM with a cloud-init seed (the recorded first boot of the Debian 12 cloud image as its console)', () => {
    const LOG = '/var/tmp/kvmctl-lab/vm/pools/fxvm-pool/fxvm-web.serial.log';
    const BOOT = recorded('serial-debian12-cloud-init.log');
    const UNTIL_INIT = BOOT.split('\n').filter((_, i, all) => i <= all.findIndex((l) => l.includes("running 'init' at"))).join('\n');
    const XML = virshArgv('dumpxml', '--domain', 'fxvm-web', '--inactive');
    const W_LEASE = virshArgv('domifaddr', '--domain', 'fxvm-web', '--source', 'lease');
    const noAddress = (runner: FakeRunner) =>
      runner
        .stub(W_LEASE, { stdout: '' }, Infinity)
        .stub(virshArgv('domifaddr', '--domain', 'fxvm-web', '--source', 'agent'), { exitCode: 1, stderr: recorded('err-virsh-domifaddr-agent.stderr') }, Infinity)
        .stub(virshArgv('domifaddr', '--domain', 'fxvm-web', '--source', 'arp'), { stdout: '' }, Infinity);

    it('--for ip timing out names what the console showed of cloud-init', async () => {
      const runner = noAddress(new FakeRunner().stub(STATE('fxvm-web'), RUNNING, Infinity).stub(XML, { stdout: recorded('virsh-dumpxml-web-inactive.xml') }));
      const r = await runTimed(['vm', 'wait', 'fxvm-web', '--for', 'ip', '--timeout', '3'], runner, { files: { [LOG]: UNTIL_INIT } });
      expect(r.code).toBe(6);
      expect(r.err).toMatch(
        /timed out after 3 s waiting for VM "fxvm-web" to get an IP address \(it is running; no address from lease, agent or arp yet\); cloud-init has not finished; its last console line: \[ +[\d.]+\] cloud-init\[\d+\]: Cloud-init v\. 22\.4\.2 running 'init' at .*\nhint: see the whole console with: kvmctl vm log fxvm-web/,
      );
      expect(mutations(runner)).toEqual([]);
    });

    it('--for ip timing out on a console without cloud-init says it did not run', async () => {
      const runner = noAddress(new FakeRunner().stub(STATE('fxvm-web'), RUNNING, Infinity).stub(XML, { stdout: recorded('virsh-dumpxml-web-inactive.xml') }));
      const before = BOOT.slice(0, BOOT.indexOf('cloud-init'));
      const r = await runTimed(['vm', 'wait', 'fxvm-web', '--for', 'ip', '--timeout', '2'], runner, { files: { [LOG]: before } });
      expect(r.code).toBe(6);
      expect(r.err).toMatch(/; the serial log \(\/var\/tmp\/kvmctl-lab\/vm\/pools\/fxvm-pool\/fxvm-web\.serial\.log\) has no line from cloud-init: it did not run/);
    });

    it('--for ready: cloud-init finished, then the address; -o json has the final message', async () => {
      const runner = new FakeRunner().stub(STATE('fxvm-web'), RUNNING, Infinity).stub(XML, { stdout: recorded('virsh-dumpxml-web-inactive.xml') }, 2).stub(W_LEASE, { stdout: recorded('virsh-domifaddr-lease.txt') }, Infinity);
      const r = await runTimed(['vm', 'wait', 'fxvm-web', '--for', 'ready'], runner, { files: { [LOG]: BOOT } });
      expect(r.code).toBe(0);
      expect(r.err).toBe('vm fxvm-web is ready: cloud-init finished 186 s after boot (DataSourceNoCloud), no problems reported\n');
      expect(r.out).toMatch(/^192\.168\.122\.\d+\n$/);
      const j = await runTimed(['-o', 'json', 'vm', 'wait', 'fxvm-web', '--for', 'ready'], runner, { files: { [LOG]: BOOT } });
      expect(JSON.parse(j.out)).toMatchObject({ name: 'fxvm-web', ready: true, cloudInit: { upSeconds: 186.19, datasource: 'DataSourceNoCloud', problems: [] }, addresses: [expect.objectContaining({ source: 'lease' })] });
    });

    it('--for ready: cloud-init finished with a WARNING is exit 1 naming it; not finished is exit 6 with the last line', async () => {
      const runner = new FakeRunner().stub(STATE('fxvm-web'), RUNNING, Infinity).stub(XML, { stdout: recorded('virsh-dumpxml-web-inactive.xml') }, Infinity);
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

describe('vm stop', () => {
  const SHUTDOWN = virshArgv('shutdown', '--domain', 'w', '--mode', 'acpi');
  const DESTROY = virshArgv('destroy', '--domain', 'w');

  it('asks through ACPI and waits until it is off', async () => {
    const runner = new FakeRunner().stub(SHUTDOWN, {});
    sequence(runner, STATE('w'), [RUNNING, RUNNING, RUNNING, SHUTOFF]);
    const r = await runTimed(['vm', 'stop', 'w'], runner);
    expect([r.code, r.out]).toEqual([0, 'vm w shut down\n']);
    expect(mutations(runner)).toEqual(['virsh shutdown --domain w --mode acpi']);
  });

  it('asks again every 10 s (a booting guest drops the event), then exit 6 without --force', async () => {
    const runner = new FakeRunner().stub(SHUTDOWN, {}, Infinity).stub(STATE('w'), RUNNING, Infinity);
    const r = await runTimed(['vm', 'stop', 'w', '--timeout', '25'], runner);
    expect(r.code).toBe(6);
    expect(r.err).toMatch(/timed out after 25 s waiting for VM "w" to shut down \(it is still running\)\nhint: the guest ignored the ACPI power button; power it off with: kvmctl vm stop w --force/);
    expect(mutations(runner)).toEqual(Array(3).fill('virsh shutdown --domain w --mode acpi'));
  });

  it('--force powers it off when the timeout passes', async () => {
    const runner = new FakeRunner().stub(SHUTDOWN, {}, Infinity).stub(STATE('w'), RUNNING, Infinity).stub(DESTROY, {});
    const r = await runTimed(['vm', 'stop', 'w', '--timeout', '3', '--force', '-o', 'json'], runner);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual({ name: 'w', state: 'shutoff', changed: true, forced: true });
    expect(mutations(runner).at(-1)).toBe('virsh destroy --domain w');
  });

  it('an already shut-off VM is unchanged; a paused one needs --force', async () => {
    const off = new FakeRunner().stub(STATE('w'), SHUTOFF);
    expect((await runKvmctl(['vm', 'stop', 'w'], off)).out).toBe('vm w unchanged (already shutoff)\n');
    const paused = new FakeRunner().stub(STATE('w'), PAUSED);
    const p = await runKvmctl(['vm', 'stop', 'w'], paused);
    expect([p.code, p.err]).toEqual([5, expect.stringMatching(/VM "w" is paused: a paused guest cannot react to the power button/)]);
    expect(mutations(paused)).toEqual([]);
  });
});

describe('vm console and vm log', () => {
  it('console without a terminal is exit 2 pointing to vm log, and runs nothing', async () => {
    const runner = new FakeRunner();
    const r = await runKvmctl(['vm', 'console', 'w'], runner);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/vm console needs a terminal[\s\S]*hint: to read what the guest printed, use: kvmctl vm log w/);
    expect(runner.calls).toEqual([]);
  });

  it('console on a terminal hands it to virsh console', async () => {
    const attached: Command[] = [];
    const runner = new (class extends FakeRunner {
      async runInteractive(cmd: Command): Promise<number> {
        attached.push(cmd);
        return 0;
      }
    })().stub(STATE('x y'), RUNNING);
    const r = await runKvmctl(['vm', 'console', 'x y'], runner, { tty: true });
    expect(r.code).toBe(0);
    expect(attached.map(short)).toEqual(['virsh console --domain x y']);
    expect(attached[0]?.args).toContain('x y');
  });

  it('console of a shut-off VM is refused, pointing to vm log', async () => {
    const runner = new (class extends FakeRunner {
      async runInteractive(): Promise<number> {
        throw new Error('must not attach');
      }
    })().stub(STATE('w'), SHUTOFF);
    const r = await runKvmctl(['vm', 'console', 'w'], runner, { tty: true });
    expect(r.code).toBe(5);
    expect(r.err).toMatch(/kvmctl vm log w/);
  });

  const DUMP = virshArgv('dumpxml', '--domain', 'fxvm-web', '--inactive');
  const LOG = `${POOL_DIR}/fxvm-web.serial.log`;

  it('log prints what the guest wrote, CRLF made LF; --lines keeps the end', async () => {
    const runner = new FakeRunner().stub(DUMP, { stdout: recorded('virsh-dumpxml-web-inactive.xml') }, 2);
    const text = recorded('serial-log-web.txt');
    expect(text).toContain('\r\n');
    const all = await runKvmctl(['vm', 'log', 'fxvm-web'], runner, { files: { [LOG]: text } });
    expect(all.out).toContain('KVMCTL-GUEST-BOOTED\n');
    expect(all.out).not.toContain('\r');
    const tail = await runKvmctl(['vm', 'log', 'fxvm-web', '--lines', '1', '-o', 'json'], runner, { files: { [LOG]: text } });
    expect(JSON.parse(tail.out)).toEqual({ name: 'fxvm-web', file: LOG, lines: [expect.stringMatching(/^KVMCTL-GUEST-IP eth0 192\.168\.122\.\d+$/)] });
  });

  it('log before the first start: nothing yet, said on stderr; exit 0', async () => {
    const runner = new FakeRunner().stub(DUMP, { stdout: recorded('virsh-dumpxml-web-inactive.xml') }).stub(STATE('fxvm-web'), SHUTOFF);
    const r = await runKvmctl(['vm', 'log', 'fxvm-web'], runner);
    expect([r.code, r.out]).toEqual([0, '']);
    expect(r.err).toMatch(/no output yet: .*fxvm-web\.serial\.log is created when VM fxvm-web starts \(it is shutoff\)/);
  });

  it('log of a VM without a serial log file, or over a remote URI, is exit 5 with what to do', async () => {
    const odd = new FakeRunner().stub(virshArgv('dumpxml', '--domain', 'fxvm odd;name', '--inactive'), { stdout: recorded('virsh-dumpxml-odd-inactive.xml') });
    const a = await runKvmctl(['vm', 'log', 'fxvm odd;name'], odd);
    expect([a.code, a.err]).toEqual([5, expect.stringMatching(/keeps no serial log[\s\S]*kvmctl vm console/)]);
    const remoteUri = 'qemu+ssh://root@kvm1/system';
    const remote = new FakeRunner().stub(['virsh', '-c', remoteUri, 'dumpxml', '--domain', 'fxvm-web', '--inactive'], { stdout: recorded('virsh-dumpxml-web-inactive.xml') });
    const b = await runKvmctl(['vm', 'log', 'fxvm-web'], remote, { uri: remoteUri });
    expect([b.code, b.err]).toEqual([5, expect.stringMatching(/is a file on the libvirt host \(.*fxvm-web\.serial\.log\)/)]);
  });
});
