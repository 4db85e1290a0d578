import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { addGlobalOptions, createApp } from '../../src/app.js';
import { memoryFs } from '../../src/local-fs.js';
import { memoryIO } from '../../src/output/io.js';
import { arg, flag, list, negatable, required, value, verb, verbOn, type OptionTable } from '../../src/verb.js';
import { FakeRunner, newStateDir } from '../support/harness.js';

const app = () => createApp({ io: memoryIO({ KVMCTL_STATE_DIR: newStateDir() }), runner: new FakeRunner(), fs: memoryFs({}), version: 'test', signal: new AbortController().signal, argv: [] });

describe('verb()', () => {
  it('gives the run function the arguments and the options the tables declare', async () => {
    const seen: unknown[] = [];
    const options = { path: value('--path <dir>', 'd'), sourceDev: list('--source-dev <d>', 'd'), start: negatable('--no-start', 'd'), force: flag('--force', 'f'), type: value('--type <t>', 't', { default: 'dir', choices: ['dir', 'fs'] }) };
    const declare = verb('x', 'x', async (ctx, name, more, o) => void seen.push(ctx.uri, name, more, o), { args: [arg('<name>', 'n'), arg('[more...]', 'm')], options });
    const program = addGlobalOptions(new Command('kvmctl')).exitOverride();
    program.addCommand(declare(app()));
    await program.parseAsync(['node', 'kvmctl', '-c', 'test:///default', 'x', 'a', 'b', 'c', '--source-dev', '/dev/a', '--source-dev', '/dev/b', '--no-start'], { from: 'node' });
    expect(seen).toEqual(['test:///default', 'a', ['b', 'c'], { sourceDev: ['/dev/a', '/dev/b'], start: false, type: 'dir' }]);
  });

  it('a table key that is not its flag\'s attribute is refused when the verb is declared', () => {
    // The types refuse it at compile time; a cast gets this far and no further.
    const options = { pth: value('--path <dir>', 'd') } as unknown as OptionTable;
    expect(() => verb('x', 'x', async () => undefined, { options: options as never })(app())).toThrow(/option key pth does not match --path <dir> \(path\)/);
  });

  it('a required option with choices is a usage error when missing or not one of them', async () => {
    const seen: unknown[] = [];
    const options = { mode: required('--mode <mode>', 'm', { choices: ['nat', 'route'] }) };
    const declare = verb('x', 'x', async (_ctx, o) => void seen.push(o.mode), { options });
    const parse = async (...argv: string[]) => {
      const program = addGlobalOptions(new Command('kvmctl')).exitOverride().configureOutput({ writeErr: () => undefined });
      program.addCommand(declare(app()).exitOverride().configureOutput({ writeErr: () => undefined }));
      await program.parseAsync(['node', 'kvmctl', 'x', ...argv], { from: 'node' });
    };
    await expect(parse()).rejects.toThrow(/required option '--mode <mode>' not specified/);
    await expect(parse('--mode', 'bridge')).rejects.toThrow(/argument 'bridge' is invalid. Allowed choices are nat, route/);
    await parse('--mode', 'route');
    expect(seen).toEqual(['route']);
    expect(declare(app()).helpInformation()).toContain('(choices: "nat", "route")');
  });

  it("verbOn: a verb gets the helper's arguments, then its own; its own notes, then the helper's", async () => {
    const seen: unknown[] = [];
    const onThing = verbOn([arg('<thing>', 't')], '\nhelper note\n');
    const declare = onThing('x', 'x', async (_ctx, thing, words, o) => void seen.push(thing, words, o), { args: [arg('<words...>', 'w')], options: { force: flag('--force', 'f') }, notes: '\nown note\n' });
    const cmd = declare(app());
    expect(cmd.registeredArguments.map((a) => a.name())).toEqual(['thing', 'words']);
    let help = '';
    cmd.configureOutput({ writeOut: (text) => void (help += text) }).outputHelp();
    expect(help.slice(cmd.helpInformation().length)).toBe('\nown note\n\nhelper note\n\n');
    const program = addGlobalOptions(new Command('kvmctl')).exitOverride();
    program.addCommand(cmd);
    await program.parseAsync(['node', 'kvmctl', 'x', 'a', 'b', 'c', '--force'], { from: 'node' });
    expect(seen).toEqual(['a', ['b', 'c'], { force: true }]);
  });
});
