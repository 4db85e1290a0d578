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
function shell(program: string, script: string, env: Record<string, string> = {}) {
  const r = spawnSync('ip', ['netns', 'exec', lab.netns, program, '-c', script], {
    encoding: 'utf8',
    env: { PATH: `${bin}:${process.env.PATH}`, HOME: work, NO_COLOR: '1', LC_ALL: 'C.UTF-8', ...env },
    timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`${program} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/**
 * What bash offers for a line: the function `complete -p kvmctl` names, called the
 * way bash's programmable completion calls it (COMP_LINE, COMP_POINT, COMP_WORDS,
 * COMP_CWORD). `shown` is bash's own current word, when COMP_WORDBREAKS (= and :)
 * cut it shorter than the typed word.
 */
function bash(line: string, shown?: string, env: Record<string, string> = {}): string[] {
  const script = `source <(kvmctl completion bash)
spec=$(complete -p kvmctl) || exit 3
fn=\${spec#*-F }; fn=\${fn%% *}
COMP_LINE=$1; COMP_POINT=\${#1}
read -ra COMP_WORDS <<<"$1"
[[ $1 == *' ' ]] && COMP_WORDS+=('')
[[ -n $2 ]] && COMP_WORDS[\${#COMP_WORDS[@]}-1]=$2
COMP_CWORD=$((\${#COMP_WORDS[@]} - 1))
COMPREPLY=()
"$fn" kvmctl "\${COMP_WORDS[COMP_CWORD]}" "\${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync('ip', ['netns', 'exec', lab.netns, 'bash', '-c', script, 'bash', line, shown ?? ''], {
    encoding: 'utf8',
    env: { PATH: `${bin}:${process.env.PATH}`, HOME: work, NO_COLOR: '1', ...env },
    timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`bash exited ${r.status}: ${r.stderr}`);
  return r.stdout.split('\n').filter(Boolean);
}

const c = () => `-c '${lab.uri}'`;

describe('kvmctl completion bash (real bash against the lab)', () => {
  it('registers a completion function for kvmctl', () => {
    expect(shell('bash', 'source <(kvmctl completion bash); complete -p kvmctl')).toBe('complete -F __kvmctl_complete kvmctl\n');
  });

  it('completes nouns, verbs, flags and flag choices', () => {
    expect(bash('kvmctl ')).toEqual(['host', 'vm', 'pool', 'volume', 'bridge', 'net', 'completion']);
    expect(bash('kvmctl vo')).toEqual(['volume']);
    expect(bash('kvmctl vm st')).toEqual(['start', 'stop']);
    expect(bash('kvmctl vm create web1 --grap')).toEqual(['--graphics']);
    expect(bash('kvmctl vm create web1 --graphics ')).toEqual(['none', 'vnc', 'spice']);
    expect(bash('kvmctl -o j')).toEqual(['json']);
  });

  it('completes the names of live objects from the host named by -c (or $KVMCTL_URI)', () => {
    expect(bash(`kvmctl ${c()} vm start ${PREFIX}`).sort()).toEqual([VM, SPACED.replace(/ /g, '\\ ')].sort());
    expect(bash(`kvmctl vm info ${PREFIX}-`, undefined, { KVMCTL_URI: lab.uri })).toEqual([VM]);
    expect(bash(`kvmctl ${c()} pool info ${PREFIX}`)).toEqual([POOL]);
    expect(bash(`kvmctl ${c()} net start ${PREFIX}`)).toEqual([NET]);
    expect(bash(`kvmctl ${c()} volume info ${PREFIX}`)).toEqual([`${POOL}/`]);
    expect(bash(`kvmctl ${c()} volume info ${POOL}/disk`)).toEqual([`${POOL}/disk-a.qcow2`, `${POOL}/disk-b.raw`]);
    expect(bash('kvmctl bridge attach vir')).toEqual(['virbr0']);
    // bash replaces only the part after its last word break (= here): the reply is that part.
    expect(bash(`kvmctl ${c()} vm create w --network network=${PREFIX}`, PREFIX)).toEqual([NET]);
  });

  it('a -c naming no reachable daemon offers no names and prints nothing to the terminal', () => {
    const dead = `qemu+unix:///system?socket=${work}/no-such-sock`;
    expect(bash(`kvmctl -c '${dead}' vm start ${PREFIX}`)).toEqual([]);
  });
});

describe('kvmctl completion zsh (real zsh)', () => {
  /** Runs _kvmctl as zsh's completion system would, recording what it hands to compadd. */
  const zsh = (...words: string[]) =>
    shell(
      'zsh',
      `compdef() { print -r -- "compdef $*" }
compadd() { local a; for a in "$@"; do print -r -- "compadd:$a"; done }
_files() { print -r -- "files:$*" }
source <(kvmctl completion zsh)
words=(${words.map((w) => `'${w}'`).join(' ')}); CURRENT=${words.length}
_kvmctl`,
    ).split('\n').filter(Boolean);

  it('registers _kvmctl and offers verbs, choices and live names', () => {
    expect(zsh('kvmctl', 'vm', 'st')).toEqual(['compdef _kvmctl kvmctl', 'compadd:--', 'compadd:start', 'compadd:stop']);
    expect(zsh('kvmctl', 'vm', 'create', 'w', '--graphics', '')).toEqual(['compdef _kvmctl kvmctl', 'compadd:--', 'compadd:none', 'compadd:vnc', 'compadd:spice']);
    expect(zsh('kvmctl', '-c', lab.uri, 'vm', 'start', PREFIX).sort()).toEqual(['compdef _kvmctl kvmctl', 'compadd:--', `compadd:${VM}`, `compadd:${SPACED}`].sort());
    // Pools end in / and take no space after them; a file argument falls back to _files.
    expect(zsh('kvmctl', '-c', lab.uri, 'volume', 'info', PREFIX)).toEqual(['compdef _kvmctl kvmctl', 'compadd:-S', 'compadd:', 'compadd:--', `compadd:${POOL}/`]);
    expect(zsh('kvmctl', 'vm', 'create', 'w', '--ssh-key', '')).toEqual(['compdef _kvmctl kvmctl', 'files:']);
  });
});

describe('kvmctl completion fish (real fish)', () => {
  const fish = (line: string) => shell('fish', `kvmctl completion fish | source; complete -C ${JSON.stringify(line)}`).split('\n').filter(Boolean);

  it("offers verbs with descriptions, choices and live names through fish's own complete -C", () => {
    expect(fish('kvmctl vm st')).toEqual(['start\tstart a VM', 'stop\tshut a VM down through ACPI and wait; --force powers it off when the timeout passes']);
    expect(fish('kvmctl net forward add --proto ')).toEqual(['tcp', 'udp']);
    expect(fish(`kvmctl -c '${lab.uri}' vm start ${PREFIX}`).sort()).toEqual([VM, SPACED].sort());
    expect(fish(`kvmctl -c '${lab.uri}' volume info ${POOL}/disk-b`)).toEqual([`${POOL}/disk-b.raw`]);
  });
});
