/**
 * kvmctl completion: the scripts loaded into real bash, zsh and fish, completing
 * against the lab: nouns, verbs, flags, choices and the names of VMs, pools,
 * POOL/VOLUME, networks and bridges that the test made with virsh. The shells run
 * in the lab's network namespace (bridges are read from there) with `kvmctl` on PATH.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KVMCTL, lab, virsh } from './lab.js';

const PREFIX = 'e2e-comp';
const VM = `${PREFIX}-vm`;
const SPACED = `${PREFIX} spaced vm`;
const POOL = `${PREFIX}-pool`;
const NET = `${PREFIX}-net`;
const work = mkdtempSync(join(tmpdir(), 'kvmctl-e2e-completion-'));
const bin = join(work, 'bin');

function must(r: { code: number; stderr: string }, what: string): void {
  if (r.code !== 0) throw new Error(`${what} failed: ${r.stderr}`);
}

function defineFromFile(kind: 'define' | 'pool-define' | 'net-define', xml: string): void {
  const file = join(work, 'object.xml');
  writeFileSync(file, xml);
  must(virsh(kind, '--file', file), `${kind} ${xml.slice(0, 60)}`);
}

function cleanup(): void {
  for (const vm of [VM, SPACED]) virsh('undefine', '--domain', vm);
  virsh('pool-destroy', '--pool', POOL);
  virsh('pool-undefine', '--pool', POOL);
  virsh('net-undefine', '--network', NET);
  rmSync(join(lab.dir, 'pools', POOL), { recursive: true, force: true });
}

beforeAll(() => {
  cleanup();
  mkdirSync(bin);
  symlinkSync(KVMCTL, join(bin, 'kvmctl'));
  for (const name of [VM, SPACED]) {
    defineFromFile('define', `<domain type='qemu'><name>${name}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu><os><type arch='x86_64'>hvm</type></os></domain>`);
  }
  const poolDir = join(lab.dir, 'pools', POOL);
  mkdirSync(poolDir, { recursive: true });
  defineFromFile('pool-define', `<pool type='dir'><name>${POOL}</name><target><path>${poolDir}</path></target></pool>`);
  must(virsh('pool-start', '--pool', POOL), 'pool-start');
  must(virsh('vol-create-as', '--pool', POOL, '--name', 'disk-a.qcow2', '--capacity', '1M', '--format', 'qcow2'), 'vol-create-as');
  must(virsh('vol-create-as', '--pool', POOL, '--name', 'disk-b.raw', '--capacity', '1M', '--format', 'raw'), 'vol-create-as');
  defineFromFile('net-define', `<network><name>${NET}</name><bridge name='e2ecompbr0'/><ip address='10.253.9.1' netmask='255.255.255.0'/></network>`);
});

afterAll(() => {
  cleanup();
  rmSync(work, { recursive: true, force: true });
});

/** A shell in the lab's netns with kvmctl on PATH; no URI in the environment but the one a test gives. */
function shell(program: string, script: string, env: Record<string, string> = {}, argv = ['-c', script]) {
  const r = spawnSync('ip', ['netns', 'exec', lab.netns, program, ...argv], {
    encoding: 'utf8',
    env: { PATH: `${bin}:${process.env.PATH}`, HOME: work, NO_COLOR: '1', LC_ALL: 'C.UTF-8', ...env },
    timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`${program} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/**
 * The line after pressing Tab in an interactive bash (readline in a pty, `script`)
 * that sourced `kvmctl completion bash`: bash's own word splitting (COMP_WORDBREAKS),
 * quoting and -o nospace/default handling, as a user at a terminal gets them.
 */
function bash(line: string, env: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(work, 'bash-'));
  writeFileSync(
    join(dir, 'rc'),
    `source <(kvmctl completion bash)
show() { printf '%s' "$READLINE_LINE" > '${dir}/buffer'; }
bind -x '"\\C-t": show'
`,
  );
  // Type the line, Tab, then Ctrl-T to save what readline holds; once saved, clear the line (Ctrl-U) and exit.
  const driver = `( sleep 0.5; printf '%s\\t\\x14' "$2"; for i in $(seq 150); do [ -s "$3" ] && break; sleep 0.1; done; printf '\\x15exit\\n' ) |
  script -qec "bash --rcfile '$1' -i" /dev/null >/dev/null 2>&1; cat "$3"`;
  return shell('bash', driver, { TERM: 'xterm', ...env }, ['-c', driver, 'bash', join(dir, 'rc'), line, join(dir, 'buffer')]);
}

const c = () => `-c '${lab.uri}'`;

describe('kvmctl completion bash (real bash against the lab)', () => {
  it('registers a completion function for kvmctl', () => {
    expect(shell('bash', 'source <(kvmctl completion bash); complete -p kvmctl')).toBe('complete -F __kvmctl_complete kvmctl\n');
  });

  it('completes nouns, verbs, flags and flag choices', () => {
    expect(bash('kvmctl vo')).toBe('kvmctl volume ');
    expect(bash('kvmctl vm star')).toBe('kvmctl vm start ');
    expect(bash('kvmctl vm create web1 --grap')).toBe('kvmctl vm create web1 --graphics ');
    expect(bash('kvmctl vm create web1 --graphics sp')).toBe('kvmctl vm create web1 --graphics spice ');
    expect(bash('kvmctl -o j')).toBe('kvmctl -o json ');
  });

  it('completes the names of live objects from the host named by -c (or $KVMCTL_URI)', () => {
    expect(bash(`kvmctl ${c()} vm start ${PREFIX}-v`)).toBe(`kvmctl ${c()} vm start ${VM} `);
    expect(bash(`kvmctl vm info ${PREFIX}-v`, { KVMCTL_URI: lab.uri })).toBe(`kvmctl vm info ${VM} `);
    expect(bash(`kvmctl ${c()} vm start ${PREFIX}\\ s`)).toBe(`kvmctl ${c()} vm start ${SPACED.replace(/ /g, '\\ ')} `);
    expect(bash(`kvmctl ${c()} pool info ${PREFIX}-p`)).toBe(`kvmctl ${c()} pool info ${POOL} `);
    expect(bash(`kvmctl ${c()} net start ${PREFIX}-n`)).toBe(`kvmctl ${c()} net start ${NET} `);
    // A pool ends in / with no space after it, ready for the volume.
    expect(bash(`kvmctl ${c()} volume info ${PREFIX}-p`)).toBe(`kvmctl ${c()} volume info ${POOL}/`);
    expect(bash(`kvmctl ${c()} volume info ${POOL}/disk-b`)).toBe(`kvmctl ${c()} volume info ${POOL}/disk-b.raw `);
    expect(bash('kvmctl bridge attach virb')).toBe('kvmctl bridge attach virbr0 ');
    // = is a word break for bash: the value after network= completes all the same.
    expect(bash(`kvmctl ${c()} vm create w --network network=${PREFIX}-n`)).toBe(`kvmctl ${c()} vm create w --network network=${NET}`);
  });

  it('file arguments complete paths; a -c naming no reachable daemon offers nothing', () => {
    writeFileSync(join(work, 'keyfile.pub'), 'ssh-ed25519 AAAA test\n');
    expect(bash(`kvmctl vm create w --ssh-key ${work}/keyf`)).toBe(`kvmctl vm create w --ssh-key ${work}/keyfile.pub `);
    const dead = `-c 'qemu+unix:///system?socket=${work}/no-such-sock'`;
    expect(bash(`kvmctl ${dead} vm start ${PREFIX}-v`)).toBe(`kvmctl ${dead} vm start ${PREFIX}-v`);
  });
});

describe('kvmctl completion zsh (real zsh)', () => {
  /**
   * The line after pressing Tab in an interactive zsh (in a pty, zsh/zpty) whose
   * compinit found _kvmctl in $fpath, as `kvmctl completion zsh > "${fpath[1]}/_kvmctl"` puts it.
   */
  const zsh = (line: string): string => {
    const dir = mkdtempSync(join(work, 'zsh-'));
    writeFileSync(join(dir, '_kvmctl'), shell('bash', 'kvmctl completion zsh'));
    const driver = `zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "fpath=(\${(q)1} \$fpath); autoload -U compinit; compinit -u -D"
zpty -w z "show() { print -r -- \\"\\$BUFFER\\" > \${(q)1}/buffer; }; zle -N show; bindkey '^T' show"
zpty -w -n z "$2"$'\t\x14'
for i in {1..300}; do [[ -s $1/buffer ]] && break; sleep 0.1; done
zpty -d z
cat $1/buffer`;
    return shell('zsh', driver, {}, ['-f', '-c', driver, 'zsh', dir, line]).replace(/\n$/, '');
  };

  it('completes verbs, choices and live names through compinit and $fpath', () => {
    expect(zsh('kvmctl vm star')).toBe('kvmctl vm start ');
    expect(zsh('kvmctl vm create w --graphics sp')).toBe('kvmctl vm create w --graphics spice ');
    expect(zsh(`kvmctl -c '${lab.uri}' vm start ${PREFIX}-v`)).toBe(`kvmctl -c '${lab.uri}' vm start ${VM} `);
    // zsh quotes what it inserts; a pool ends in / with no space, ready for the volume.
    expect(zsh(`kvmctl -c '${lab.uri}' vm start ${PREFIX}\\ s`)).toBe(`kvmctl -c '${lab.uri}' vm start ${SPACED.replace(/ /g, '\\ ')} `);
    expect(zsh(`kvmctl -c '${lab.uri}' volume info ${PREFIX}-p`)).toBe(`kvmctl -c '${lab.uri}' volume info ${POOL}/`);
    expect(zsh(`kvmctl -c '${lab.uri}' volume info ${POOL}/disk-b`)).toBe(`kvmctl -c '${lab.uri}' volume info ${POOL}/disk-b.raw `);
  });
});

describe('kvmctl completion fish (real fish)', () => {
  const fish = (line: string) => shell('fish', `kvmctl completion fish | source; complete -C ${JSON.stringify(line)}`).split('\n').filter(Boolean);

  it("offers verbs with descriptions, choices and live names through fish's own complete -C", () => {
    expect(fish('kvmctl vm st')).toEqual([expect.stringMatching(/^start\tstart a VM\b/), expect.stringMatching(/^stop\tshut a VM down through ACPI/)]);
    expect(fish('kvmctl net forward add --proto ')).toEqual(['tcp', 'udp']);
    expect(fish(`kvmctl -c '${lab.uri}' vm start ${PREFIX}`).sort()).toEqual([VM, SPACED].sort());
    expect(fish(`kvmctl -c '${lab.uri}' volume info ${POOL}/disk-b`)).toEqual([`${POOL}/disk-b.raw`]);
  });
});
