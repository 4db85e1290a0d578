/**
 * Commands for a running guest against a real Debian 12 cloud guest
 * (`scripts/lab.sh cloud-image`: cloud-init, openssh-server, qemu-guest-agent):
 * vm wait --for agent|ssh|shutoff, vm exec, vm ssh, vm log -f. One VM, booted
 * once under emulation (minutes on a loaded machine); every check reuses it and
 * the last ones stop it. Two tiny lab guests (one without the agent's channel,
 * one with the channel but no agent) give the agent's refusals.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KVMCTL, LAB_SCRIPT, kvmctl, lab, virsh, type RunResult } from './lab.js';
import { snapshotHost } from './host-state.js';
import { newStateDir, removeStateDirs, start } from './reliability/harness.js';
import { parseOutput } from '../support/schemas.js';

const VM = 'gc19-guest';
const NOCHAN = 'gc19-nochannel';
const NOAGENT = 'gc19-noagent';
const POOL = 'gc19pool';
const poolDir = () => join(lab.dir, 'pools', POOL);
const work = mkdtempSync(join(tmpdir(), 'kvmctl-e2e-guestcmd-'));
const KEY = join(work, 'id_ed25519');
const OTHER_KEY = join(work, 'other_ed25519');
let stateDir = '';

const env = () => ({ KVMCTL_STATE_DIR: stateDir });
const run = (args: string[], timeoutMs = 170_000) => kvmctl(args, { env: env(), timeoutMs });

/** The built CLI in the lab's namespace with stdout and stderr as bytes. */
function runBytes(args: string[]): { code: number; stdout: Buffer; stderr: Buffer } {
  const r = spawnSync('ip', ['netns', 'exec', lab.netns, process.execPath, KVMCTL, '-c', lab.uri, ...args], { env: { ...process.env, NO_COLOR: '1', KVMCTL_STATE_DIR: stateDir }, timeout: 170_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function must(r: RunResult, what: string): string {
  if (r.code !== 0) throw new Error(`${what} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

const domstate = (name: string) => virsh('domstate', '--domain', name).stdout.trim();

/** A tiny lab guest defined with virsh; with or without the agent's channel (the tiny guest runs no agent). */
function defineTiny(name: string, channel: boolean): void {
  const xml = `<domain type='qemu'><name>${name}</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type><kernel>${lab.guestDir}/vmlinuz</kernel><initrd>${lab.guestDir}/initrd.img</initrd><cmdline>console=ttyS0</cmdline></os>
  <features><acpi/></features><devices><serial type='pty'/><console type='pty'/>${channel ? "<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>" : ''}</devices></domain>`;
  const file = join(work, `${name}.xml`);
  writeFileSync(file, xml);
  must(virsh('define', '--file', file), `define ${name}`);
  must(virsh('start', '--domain', name), `start ${name}`);
}

function cleanup(): void {
  for (const d of [VM, NOCHAN, NOAGENT]) {
    virsh('destroy', '--domain', d);
    virsh('undefine', '--domain', d, '--nvram', '--snapshots-metadata');
  }
  virsh('pool-destroy', '--pool', POOL);
  virsh('pool-undefine', '--pool', POOL);
  rmSync(poolDir(), { recursive: true, force: true });
}

let ip = '';

// The long waits run asynchronously: a synchronous child for minutes blocks the test worker's link to vitest.
const runLong = (args: string[]) => start(args, { stateDir }).done;

beforeAll(async () => {
  execFileSync('bash', [LAB_SCRIPT, 'cloud-image'], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 1_500_000 });
  stateDir = newStateDir();
  cleanup();
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'e2e@kvmctl', '-f', KEY]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'other@kvmctl', '-f', OTHER_KEY]);
  virsh('net-start', 'default'); // fails harmlessly when it is already active
  expect(virsh('net-info', 'default').stdout).toMatch(/Active:\s+yes/);
  must(run(['pool', 'create', POOL, '--type', 'dir', '--path', poolDir()]), 'pool create');
  must(run(['volume', 'import', lab.cloudImage, '--pool', POOL, '--name', 'debian12.qcow2']), 'volume import');
  must(await runLong(['vm', 'create', VM, '--memory', '1G', '--image', `${POOL}/debian12.qcow2,size=4G`, '--ssh-key', `${KEY}.pub`, '--ssh-user', 'debian', '--wait', 'ip', '--timeout', '1500']), 'vm create');
  defineTiny(NOCHAN, false);
  defineTiny(NOAGENT, true);
}, 3_200_000);

afterAll(() => {
  cleanup();
  rmSync(work, { recursive: true, force: true });
  removeStateDirs();
});

describe('vm wait --for agent and ssh, on the real guest', () => {
  it('--for agent ends once qemu-guest-agent answers (exit 0, JSON)', async () => {
    const r = await runLong(['-o', 'json', 'vm', 'wait', VM, '--for', 'agent', '--timeout', '1500']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(parseOutput(['vm', 'wait', VM], r.stdout)).toEqual({ name: VM, agent: true });
  }, 1_700_000);

  it('--for ssh ends once sshd answers, and prints the address vm ip finds', async () => {
    const r = await runLong(['vm', 'wait', VM, '--for', 'ssh', '--timeout', '1500']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`vm ${VM} answers on ssh \\(SSH-2\\.0-OpenSSH_`));
    ip = r.stdout.trim();
    expect(ip).toMatch(/^192\.168\.122\.\d+$/);
    expect(must(run(['vm', 'ip', VM]), 'vm ip').trim().split('\n')).toContain(ip);
  }, 1_700_000);

  it('the tiny guests: no channel is exit 5 at once with how to add it; a silent agent times out (exit 6) naming it', () => {
    // Exit 5 rather than the timeout's 6: it was refused before any wait.
    const none = run(['vm', 'wait', NOCHAN, '--for', 'agent', '--timeout', '120']);
    expect(none.code).toBe(5);
    expect(none.stderr).toContain(`VM "${NOCHAN}" has no guest agent channel`);
    expect(none.stderr).toContain("hint: add <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>");
    const silent = run(['vm', 'wait', NOAGENT, '--for', 'agent', '--timeout', '3']);
    expect(silent.code).toBe(6);
    expect(silent.stderr).toMatch(/timed out after 3 s waiting for the guest agent of VM "gc19-noagent" to answer \(the guest agent of VM "gc19-noagent" is not answering/);
  });
});

describe('vm exec through the guest agent', () => {
  it('writes stdout and stderr byte for byte and exits with the command\'s status', () => {
    const r = runBytes(['vm', 'exec', VM, '--', 'sh', '-c', 'printf "a\\000b\\377\\r\\n"; printf "err\\001\\n" >&2; exit 3']);
    expect(r.code).toBe(3);
    expect(r.stdout).toEqual(Buffer.from([0x61, 0x00, 0x62, 0xff, 0x0d, 0x0a]));
    expect(r.stderr).toEqual(Buffer.from('err\x01\n', 'latin1'));
  });

  it('arguments reach the guest as given: no shell on either side', () => {
    const hostile = ['$(touch /tmp/gc19-pwned)', 'a;b', "it's", '`id`', '-n', ''];
    const r = runBytes(['vm', 'exec', VM, '--', 'printf', '[%s]\\n', ...hostile]);
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toBe(hostile.map((h) => `[${h}]\n`).join(''));
    const inGuest = runBytes(['vm', 'exec', VM, '--', 'test', '-e', '/tmp/gc19-pwned']);
    expect(inGuest.code).toBe(1);
    expect(existsSync('/tmp/gc19-pwned')).toBe(false);
  });

  it('-o json gives the output, the exit code and the pid', () => {
    const r = run(['-o', 'json', 'vm', 'exec', VM, '--', 'hostname']);
    expect(r.code, r.stderr).toBe(0);
    const j = parseOutput(['vm', 'exec', VM], r.stdout);
    expect(j).toMatchObject({ name: VM, command: ['hostname'], exitCode: 0, signal: null, stdout: `${VM}\n`, stderr: '', stdoutTruncated: false });
    expect(typeof j.pid).toBe('number');
  });

  it('a command that outlives --timeout is exit 6 naming its pid, which the hint ends', () => {
    const r = run(['vm', 'exec', VM, '--timeout', '2', '--', 'sleep', '600']);
    expect(r.code).toBe(6);
    const pid = /it still runs in the guest as pid (\d+)/.exec(r.stderr)?.[1];
    expect(pid, r.stderr).toBeDefined();
    expect(r.stderr).toMatch(new RegExp(`hint: end it with: kvmctl (-c \\S+ )?vm exec ${VM} -- kill ${pid}`));
    expect(run(['vm', 'exec', VM, '--', 'kill', pid ?? '']).code).toBe(0);
    expect(runBytes(['vm', 'exec', VM, '--', 'sh', '-c', `! kill -0 ${pid} 2>/dev/null`]).code).toBe(0);
  });

  it('a program the guest does not have is exit 1 naming it; no channel or no agent is exit 5 with what to do', () => {
    const missing = run(['vm', 'exec', VM, '--', '/no/such/program']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('/no/such/program');
    const none = run(['vm', 'exec', NOCHAN, '--', 'true']);
    expect(none.code).toBe(5);
    expect(none.stderr).toContain(`VM "${NOCHAN}" has no guest agent channel`);
    const silent = run(['vm', 'exec', NOAGENT, '--', 'true']);
    expect(silent.code).toBe(5);
    expect(silent.stderr).toContain(`the guest agent of VM "${NOAGENT}" is not answering`);
    expect(silent.stderr).toMatch(/hint: wait until the guest has booted \(kvmctl (-c \S+ )?vm wait gc19-noagent --for agent\), or install and start it in the guest/);
  });

  it('usage: no command is exit 2; an unknown VM is exit 3; nothing changes', () => {
    // Everything but the running guest's own disk, which it writes to meanwhile.
    const state = () => {
      const { volumes, ...rest } = snapshotHost({ dirs: [], netns: '' });
      return { ...rest, volumes: Object.keys(volumes).sort() };
    };
    const before = state();
    const empty = run(['vm', 'exec', VM, '--', '']);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('vm exec needs a command after --');
    const unknown = run(['vm', 'exec', 'gc19;touch /tmp/gc19-pwned', '--', 'true']);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toContain('VM "gc19;touch /tmp/gc19-pwned" not found');
    expect(existsSync('/tmp/gc19-pwned')).toBe(false);
    expect(state()).toEqual(before);
  });
});

describe('vm ssh', () => {
  it('logs in with the key and user recorded at create, passes bytes and the exit status through', () => {
    const r = runBytes(['vm', 'ssh', VM, '--', 'printf', "'x\\000y\\377'", ';', 'whoami', '>&2', ';', 'exit', '7']);
    expect(r.code, r.stderr.toString()).toBe(7);
    expect(r.stdout).toEqual(Buffer.from([0x78, 0x00, 0x79, 0xff]));
    expect(r.stderr.toString()).toMatch(/(^|\n)debian\n$/);
    // The guest's host key went to kvmctl's own known_hosts, under the VM's uuid.
    const uuid = virsh('domuuid', '--domain', VM).stdout.trim();
    expect(spawnSync('ssh-keygen', ['-F', `kvmctl-vm-${uuid}`, '-f', join(stateDir, 'ssh_known_hosts')]).status).toBe(0);
  });

  it('--user and -i override what was recorded; ssh\'s own failure (255) is passed through', () => {
    const wrongKey = run(['vm', 'ssh', VM, '-i', OTHER_KEY, '--', 'true']);
    expect(wrongKey.code).toBe(255);
    expect(wrongKey.stderr).toMatch(/Permission denied/);
    expect(run(['vm', 'ssh', VM, '--user', 'debian', '-i', KEY, '--', 'true']).code).toBe(0);
  });

  it('refusals: a hostile --user is exit 2; an unknown VM exit 3; ssh never starts', () => {
    const bad = run(['vm', 'ssh', VM, '--user=-oProxyCommand=touch /tmp/gc19-pwned', '--', 'true']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--user "-oProxyCommand=touch /tmp/gc19-pwned": not a user name');
    const unknown = run(['vm', 'ssh', 'gc19-$(touch /tmp/gc19-pwned)']);
    expect(unknown.code).toBe(3);
    expect(existsSync('/tmp/gc19-pwned')).toBe(false);
  });
});

describe('vm log -f, then the guest stops', () => {
  it('Ctrl-C ends a follow with exit 0', async () => {
    const f = start(['vm', 'log', VM, '-f', '--lines', '1'], { stateDir });
    await f.waitForStderr(/following .*; ends when VM gc19-guest stops/, 60_000);
    f.kill('SIGINT');
    const r = await f.done;
    expect(r.code).toBe(0);
  });

  it('prints what the guest writes as it comes, and ends (exit 0) when the VM stops', async () => {
    const f = start(['vm', 'log', VM, '-f', '--lines', '1'], { stateDir });
    await f.waitForStderr(/following /, 60_000);
    const marker = `gc19-follow-${Date.now()}`;
    expect(runBytes(['vm', 'exec', VM, '--', 'sh', '-c', `echo ${marker} > /dev/ttyS0`]).code).toBe(0);
    // An ACPI shutdown from outside kvmctl; vm wait --for shutoff sees it through.
    must(virsh('shutdown', '--domain', VM, '--mode', 'acpi'), 'virsh shutdown');
    const off = await runLong(['vm', 'wait', VM, '--for', 'shutoff', '--timeout', '600']);
    expect(off.code, off.stderr).toBe(0);
    expect(off.stdout).toBe(`vm ${VM} is shutoff\n`);
    const r = await f.done;
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')).toContain(marker);
    expect(r.stderr).toMatch(new RegExp(`vm ${VM} is shutoff.*: end of its serial log`));
    // CRLF line ends become LF, also when a read ends between the two.
    expect(r.stdout.split('\n').filter((l) => l.endsWith('\r'))).toEqual([]);
  }, 800_000);

  it('--for agent and ssh on a shut-off VM are exit 5 at once', () => {
    for (const what of ['agent', 'ssh']) {
      const r = run(['vm', 'wait', VM, '--for', what, '--timeout', '300']);
      expect(r.code).toBe(5);
      expect(r.stderr).toContain(`VM "${VM}" is shutoff`);
      expect(r.stderr).toMatch(new RegExp(`hint: start it first: kvmctl (-c \\S+ )?vm start ${VM}`));
    }
    expect(domstate(VM)).toBe('shut off');
  });
});
