// The floor under a kvmctl command: a bare node process that runs the same programs
// with the same arguments, one after another (or all at once with --parallel, as
// -H runs hosts), reading their output through pipes as kvmctl does, and nothing
// else (no parsing, no output). A session (an interactive virsh fed in rounds) is
// { argv, input }: the one process, fed all its lines at once, its stdin then closed.
//
//   node bench/replay.mjs COMMANDS.json [--parallel]    (a JSON array of argv arrays or { argv, input })
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

const commands = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const parallel = process.argv.includes('--parallel');

function replay(entry) {
  const { argv, input } = Array.isArray(entry) ? { argv: entry } : entry;
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C', INPUTRC: '/dev/null' } });
    if (input !== undefined) child.stdin.end(input);
    const chunks = [];
    child.stdout.on('data', (c) => chunks.push(c));
    child.stderr.on('data', (c) => chunks.push(c));
    child.on('error', reject);
    child.on('close', (status) => {
      Buffer.concat(chunks).toString('utf8');
      resolve(status);
    });
  }).then((code) => {
    if (code !== 0) {
      process.stderr.write(`replay: ${argv[0]} exited ${code}\n`);
      process.exit(1);
    }
  });
}

if (parallel) await Promise.all(commands.map(replay));
else for (const argv of commands) await replay(argv);
