/** vm exec through the guest agent (recorded replies). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KvmctlError, PassedExitStatus } from '../../../../src/errors.js';
import { FakeRunner } from '../../../../src/exec/fake.js';
import { runVmExec } from '../../../../src/commands/vm/exec.js';
import { testContext, URI } from '../../../support/harness.js';

const fixture = (dir: string, file: string) => readFileSync(join('test/fixtures/recorded', dir, file), 'utf8');

describe('vm exec through the guest agent (recorded replies)', () => {
  const agent = (file: string) => fixture('agent', file);
  const running = { stdout: readFileSync('test/fixtures/recorded/virsh-domstate-reason-running.txt', 'utf8') };
  const domstate = ['virsh', '-c', URI, 'domstate', '--domain', 'web1', '--reason'];
  const agentArgv = (request: object, timeout = 10) => ['virsh', '-c', URI, 'qemu-agent-command', '--domain', 'web1', '--timeout', String(timeout), '--cmd', JSON.stringify(request)];
  const command = ['sh', '-c', 'sleep 1; printf "a\\000b\\377\\r\\n"; printf "err\\001\\n" >&2; exit 3'];
  const exec = agentArgv({ execute: 'guest-exec', arguments: { path: 'sh', arg: command.slice(1), 'capture-output': true } });
  const pid = Number(JSON.parse(agent('guest-exec.json')).return.pid);
  const status = agentArgv({ execute: 'guest-exec-status', arguments: { pid } });

  it('guest-exec with the argv as JSON, guest-exec-status until it exited; the bytes as they were; its exit status', async () => {
    const fake = new FakeRunner()
      .stub(domstate, running)
      .stub(exec, { stdout: agent('guest-exec.json') })
      .stub(status, { stdout: agent('guest-exec-status-running.json') })
      .stub(status, { stdout: agent('guest-exec-status-exited.json') });
    const { ctx, io } = testContext(fake);
    const err = await runVmExec(ctx, 'web1', command, {}).catch((e: unknown) => e);
    fake.verify();
    expect(err).toBeInstanceOf(PassedExitStatus);
    expect((err as PassedExitStatus).exitCode).toBe(3);
    expect(io.outBytes).toEqual(Buffer.from([0x61, 0x00, 0x62, 0xff, 0x0d, 0x0a]));
    expect(io.err).toBe('err\x01\n');
    expect(fake.calls.find((c) => c.args.includes('qemu-agent-command'))?.mutates).toBe(true);
  });

  it('Ctrl-C while it runs is exit 130 naming the pid it goes on as in the guest', async () => {
    const fake = new FakeRunner()
      .stub(domstate, running)
      .stub(exec, { stdout: agent('guest-exec.json') })
      .stub(status, { stdout: agent('guest-exec-status-running.json') }, Infinity);
    const abort = new AbortController();
    const { ctx } = testContext(fake, { signal: abort.signal });
    setTimeout(() => abort.abort(), 120);
    await expect(runVmExec(ctx, 'web1', command, {})).rejects.toMatchObject({ exitCode: 130, message: `vm exec web1: interrupted; it still runs in the guest as pid ${pid}`, hint: `end it with: kvmctl vm exec web1 -- kill ${pid}` });
  });

  it('no channel (recorded) is exit 5 with the channel to add; an agent that is not connected is exit 5 with how to start it', async () => {
    for (const [file, message, hint] of [
      ['err-guest-ping-no-channel.stderr', 'VM "web1" has no guest agent channel (argument unsupported: QEMU guest agent is not configured)', "add <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>"],
      ['err-guest-ping-not-connected.stderr', 'the guest agent of VM "web1" is not answering (Guest agent is not responding: QEMU guest agent is not connected)', 'install and start it in the guest'],
    ] as const) {
      const fake = new FakeRunner().stub(domstate, running).stub(agentArgv({ execute: 'guest-exec', arguments: { path: 'true', arg: [], 'capture-output': true } }), { stderr: agent(file), exitCode: 1 });
      const { ctx } = testContext(fake);
      const err = (await runVmExec(ctx, 'web1', ['true'], {}).catch((e: unknown) => e)) as KvmctlError;
      expect(err.exitCode).toBe(5);
      expect(err.message).toBe(message);
      expect(err.hint).toContain(hint);
      fake.verify();
    }
  });

  it('a VM that is not running is exit 5 before any agent call; --dry-run prints guest-exec and runs nothing in the guest', async () => {
    const off = new FakeRunner().stub(domstate, { stdout: readFileSync('test/fixtures/recorded/virsh-domstate-reason-after-destroy.txt', 'utf8') });
    const r = testContext(off);
    await expect(runVmExec(r.ctx, 'web1', ['true'], {})).rejects.toMatchObject({ exitCode: 5, message: 'VM "web1" is shutoff (destroyed): vm exec needs it running' });
    off.verify();
    const dry = new FakeRunner().stub(domstate, running);
    const d = testContext(dry, { dryRun: true });
    await runVmExec(d.ctx, 'web1', ['true'], {});
    expect(d.io.err).toContain('[dry-run] would run: virsh -c qemu:///system qemu-agent-command --domain web1 --timeout 10 --cmd');
    expect(dry.calls).toHaveLength(1);
  });
});
