/**
 * The virsh session (src/libvirt/virsh-session.ts) against real virsh and
 * libvirt's test driver: hostile words arrive whole through readline and
 * virsh's parser, control characters go around readline, errors stay with the
 * command that printed them.
 */
import { describe, expect, it } from 'vitest';
import { RealRunner } from '../../src/exec/real-runner.js';
import type { Command, CommandResult } from '../../src/exec/command.js';
import type { Conversation } from '../../src/exec/conversation.js';
import type { Runner } from '../../src/exec/runner.js';
import { read, Virsh } from '../../src/libvirt/virsh-client.js';

/** The real runner, counting the processes it starts. */
function counting(): Runner & { started: Command[] } {
  const real = new RealRunner();
  const started: Command[] = [];
  return {
    started,
    run: (cmd: Command): Promise<CommandResult> => (started.push(cmd), real.run(cmd)),
    converse: (cmd: Command): Conversation => (started.push(cmd), real.converse(cmd)),
  };
}

const HOSTILE = ["a'b", 'a"b', 'x y', 'a;b', 'a\\b', '#x', '$(touch /tmp/kvmctl-pwned)', "'; quit; echo '", 'é€', '--domain', 'KVMCTL-0-E0'];

describe('virsh session on test:///default', () => {
  it('echo -- of hostile words prints them back exactly, round after round, in one process', async () => {
    const runner = counting();
    const virsh = new Virsh(runner, 'test:///default');
    const [one, two] = await virsh.session(async (s) => [await s.round({ words: read(['echo', '--', ...HOSTILE]) }), await s.round({ each: HOSTILE.map((w) => read(['echo', '--', w])) })]);
    expect(one!.out).toEqual({ words: `${HOSTILE.join(' ')}\n` });
    expect(two!.out).toEqual({ each: HOSTILE.map((w) => `${w}\n`) });
    expect(two!.err).toEqual({ each: HOSTILE.map(() => '') });
    expect(runner.started.map((c) => c.args)).toEqual([['-c', 'test:///default']]);
  });

  it('a word with a tab or ESC runs in a batch of its own and comes back whole; the session keeps the rest', async () => {
    const runner = counting();
    const virsh = new Virsh(runner, 'test:///default');
    const r = await virsh.session((s) => s.round({ tab: read(['echo', '--', 'a\tb']), esc: read(['echo', '--', 'c\u001bd']), plain: read(['echo', 'plain']) }));
    expect(r.out).toEqual({ tab: 'a\tb\n', esc: 'c\u001bd\n', plain: 'plain\n' });
    expect(runner.started).toHaveLength(2);
  });

  it('errors stay with their command (a missing VM, a line virsh cannot parse); the next command and the next round still answer', async () => {
    const virsh = new Virsh(new RealRunner(), 'test:///default');
    const { first, second } = await virsh.session(async (s) => {
      const first = await s.round({ missing: read(['dominfo', '--domain', "no such'vm"]), bad: read(['domiflist', '--bogus']), ok: read(['domstate', '--domain', 'test']) });
      const second = await s.round({ state: read(['domstate', '--domain', 'test']) });
      return { first, second };
    });
    expect(first.err).toEqual({ missing: expect.stringMatching(/^error: failed to get domain 'no such'vm'\n/), bad: "error: command 'domiflist' doesn't support option --bogus\n", ok: '' });
    expect(first.out.ok).toBe('running\n\n');
    expect(second.out.state).toBe('running\n\n');
  });

  it('an unreachable URI: virsh leaves its shell at once, and the round is the unreachable error naming the URI', async () => {
    const uri = 'qemu+unix:///system?socket=/nonexistent/libvirt-sock';
    const virsh = new Virsh(new RealRunner(), uri);
    await expect(virsh.session((s) => s.round({ list: read(['list', '--all']) }))).rejects.toThrow(`cannot reach libvirt at ${uri}`);
  });
});
