// The floor under a kvmctl command: a bare node process that runs the same programs
// with the same arguments, one after another (or all at once with --parallel, as
// -H runs hosts), reading their output through pipes as kvmctl does, and nothing
// else (no parsing, no output).
//
//   node bench/replay.mjs COMMANDS.json [--parallel]    (a JSON array of argv arrays)
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

const commands = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const parallel = process.argv.includes('--parallel');

function replay(argv) {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
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
