/**
 * kvmctl __complete: the candidates for the word at the cursor, from the command
 * tree and from the host (recorded virsh and ip output), one call at most, with the
 * line's own -c. The shells' scripts are driven against the lab in test/e2e/completion.test.ts.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { main } from '../../../../src/main.js';
import { FakeRunner } from '../../../../src/exec/fake.js';
import { memoryIO } from '../../../../src/output/io.js';
import { memoryFs } from '../../../../src/local-fs.js';

const rec = (f: string) => readFileSync(new URL(`../../../fixtures/recorded/${f}`, import.meta.url), 'utf8');
const URI = 'qemu+unix:///system?socket=/var/tmp/kvmctl-lab/kvmlab/run/libvirt-sock';

async function complete(words: string[], runner = new FakeRunner(), env: Record<string, string> = {}) {
  const io = memoryIO(env);
  const code = await main(['node', 'kvmctl', '__complete', ...words], { io, runner, fs: memoryFs({}), version: '0.0.0', signal: new AbortController().signal, argv: [] });
  const lines = io.out.split('\n').filter(Boolean);
  const directive = Number((lines.pop() ?? '').replace(/^:/, ''));
  return { code, values: lines.map((l) => l.split('\t')[0]), lines, directive, err: io.err, runner };
}

describe('kvmctl __complete (the tree)', () => {
  it('nouns, then verbs with their descriptions, filtered by the word typed so far; no file names', async () => {
    const nouns = await complete(['']);
    expect(nouns.values).toEqual(['host', 'vm', 'pool', 'volume', 'image', 'bridge', 'net', 'events', 'completion']);
    expect(nouns.lines).toContain('vm\tcreate, inspect and run virtual machines');
    expect(nouns.directive).toBe(4);
    expect((await complete(['v'])).values).toEqual(['vm', 'volume']);
    expect((await complete(['vm', 'sn'])).values).toEqual(['snapshot']);
    expect((await complete(['vm', 'snapshot', 'r'])).values).toEqual(['revert']);
    expect((await complete(['net', 'forward', ''])).values).toEqual(['add', 'list', 'delete']);
  });

  it('flags of the verb and the global ones; values of flags with choices, also as --flag=value', async () => {
    const flags = await complete(['vm', 'create', 'x', '--']);
    expect(flags.values).toEqual(expect.arrayContaining(['--memory', '--graphics', '--virt-type', '--print-xml', '--connect', '--output', '--dry-run', '--help']));
    expect(flags.values).not.toContain('--version');
    expect((await complete(['vm', 'create', 'x', '--vi'])).values).toEqual(['--virt-type']);
    expect((await complete(['vm', 'create', 'x', '--graphics', ''])).values).toEqual(['none', 'vnc', 'spice']);
    expect((await complete(['vm', 'create', 'x', '--graphics=v'])).values).toEqual(['--graphics=vnc']);
    expect((await complete(['pool', 'create', 'p', '--type', ''])).values).toEqual(['dir', 'fs', 'netfs', 'logical']);
    expect((await complete(['-o', ''])).values).toEqual(['table', 'json', 'name']);
    expect((await complete(['completion', ''])).values).toEqual(['bash', 'zsh', 'fish']);
    // A value that names nothing (a size) offers nothing, and no files.
    expect(await complete(['vm', 'create', 'x', '--memory', ''])).toMatchObject({ values: [], directive: 4 });
    // A flag's value is not taken for a verb: after `-o json` comes the noun.
    expect((await complete(['-o', 'json', 'v'])).values).toEqual(['vm', 'volume']);
  });

  it('file and directory arguments let the shell complete paths', async () => {
    expect(await complete(['vm', 'create', 'x', '--ssh-key', ''])).toMatchObject({ values: [], directive: 0 });
    expect(await complete(['volume', 'import', ''])).toMatchObject({ values: [], directive: 0 });
    expect(await complete(['vm', 'create', 'x', '--log-dir', ''])).toMatchObject({ values: [], directive: 16 });
  });

  it('a new name (create, the copy of a clone) offers nothing and asks the host nothing', async () => {
    for (const words of [['vm', 'create', ''], ['pool', 'create', ''], ['net', 'create', ''], ['bridge', 'create', ''], ['volume', 'create', ''], ['-c', URI, 'vm', 'clone', 'a', '']]) {
      const r = await complete(words);
      expect(r.values, words.join(' ')).toEqual([]);
      expect(r.runner.calls).toEqual([]);
    }
  });
});

describe('kvmctl __complete (names from the host)', () => {
  it('VM names: one virsh call, on the URI given with -c', async () => {
    const runner = new FakeRunner().stub(['virsh', '-c', URI, 'list', '--all', '--name'], { stdout: rec('virsh-list-all-name.txt') });
    const r = await complete(['-c', URI, 'vm', 'start', 'fx'], runner);
    expect(r.values).toEqual(['fx-running', 'fx-disk', 'fx space', "fx'quote", 'fx-off', 'fx;semi']);
    expect(r.directive).toBe(4);
    expect(runner.calls).toHaveLength(1);
    runner.verify();
    // --connect=URI and $KVMCTL_URI are the same connection.
    const again = new FakeRunner().stub(['virsh', '-c', URI, 'list', '--all', '--name'], { stdout: rec('virsh-list-all-name.txt') }, 2);
    expect((await complete([`--connect=${URI}`, 'vm', 'info', 'fx-o'], again)).values).toEqual(['fx-off']);
    expect((await complete(['vm', 'snapshot', 'list', 'fx-r'], again, { KVMCTL_URI: URI })).values).toEqual(['fx-running']);
    again.verify();
  });

  it('POOL/VOLUME: pools with a slash and no space first, then that pool\'s volumes, each in one call', async () => {
    const pools = new FakeRunner().stub(['virsh', '-c', URI, 'pool-list', '--all', '--name'], { stdout: 'fx-pool\nimages\n' });
    expect(await complete(['-c', URI, 'volume', 'info', ''], pools)).toMatchObject({ values: ['fx-pool/', 'images/'], directive: 6 });
    const vols = new FakeRunner().stub(['virsh', '-c', URI, 'vol-list', '--pool', 'fx-pool'], { stdout: rec('virsh-vol-list.txt') });
    const r = await complete(['-c', URI, 'volume', 'delete', 'fx-pool/fx-d'], vols);
    expect(r).toMatchObject({ values: ['fx-pool/fx-data.raw', 'fx-pool/fx-disk.qcow2'], directive: 4 });
    expect(vols.calls).toHaveLength(1);
    // --image takes the same POOL/VOLUME.
    const image = new FakeRunner().stub(['virsh', '-c', URI, 'vol-list', '--pool', 'fx-pool'], { stdout: rec('virsh-vol-list.txt') });
    expect((await complete(['-c', URI, 'vm', 'create', 'w', '--image', 'fx-pool/fx-o'], image)).values).toEqual(['fx-pool/fx-off.qcow2']);
  });

  it('networks, pools and --network specs; bridges from one ip call', async () => {
    const nets = new FakeRunner().stub(['virsh', '-c', URI, 'net-list', '--all', '--name'], { stdout: rec('virsh-net-list-all-name.txt') }, 2);
    expect((await complete(['-c', URI, 'net', 'start', ''], nets)).values).toEqual(['default']);
    expect(await complete(['-c', URI, 'vm', 'create', 'w', '--network', 'network=d'], nets)).toMatchObject({ values: ['network=default'], directive: 6 });
    expect(await complete(['vm', 'create', 'w', '--network', ''])).toMatchObject({ values: ['network=', 'bridge=', 'none'], directive: 6 });
    const links = new FakeRunner().stub(['ip', '-j', '-d', 'addr', 'show'], { stdout: rec('ip-j-d-addr-show.json') }, 3);
    expect((await complete(['bridge', 'attach', ''], links)).values).toEqual(['virbr0']);
    expect((await complete(['net', 'nat', 'enable', '--bridge', ''], links)).values).toEqual(['virbr0']);
    expect((await complete(['vm', 'create', 'w', '--network', 'bridge='], links)).values).toEqual(['bridge=virbr0']);
    const pools = new FakeRunner().stub(['virsh', '-c', URI, 'pool-list', '--all', '--name'], { stdout: 'fx-pool\n' });
    expect((await complete(['-c', URI, 'volume', 'list', '--pool', ''], pools)).values).toEqual(['fx-pool']);
  });

  it('an unreachable host or a malformed -c offers nothing, prints no error and exits 0', async () => {
    const down = new FakeRunner().stub(['virsh', '-c', URI, 'list', '--all', '--name'], { exitCode: 1, stderr: rec('err-virsh-unreachable.stderr') });
    expect(await complete(['-c', URI, 'vm', 'start', ''], down)).toMatchObject({ code: 0, values: [], err: '' });
    expect(await complete(['-c', 'not a uri', 'vm', 'start', ''])).toMatchObject({ code: 0, values: [], err: '' });
  });

  it('a name with a control character is not offered (it could not be typed back safely)', async () => {
    const runner = new FakeRunner().stub(['virsh', '-c', URI, 'list', '--all', '--name'], { stdout: 'ok1\nbad\x1b[2Jname\n' });
    expect((await complete(['-c', URI, 'vm', 'start', ''], runner)).values).toEqual(['ok1']);
  });
});
