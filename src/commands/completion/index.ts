import { Command, Argument } from 'commander';
import { examples, type App } from '../../app.js';
import { completionScript, SHELLS, type Shell } from './scripts.js';

/** `kvmctl completion bash|zsh|fish`: the shell script that completes kvmctl's words. */
export function completionCommand(app: App): Command {
  return new Command('completion')
    .description('print the shell completion script for bash, zsh or fish')
    .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(SHELLS))
    .addHelpText(
      'after',
      examples(
        'kvmctl completion bash > /etc/bash_completion.d/kvmctl',
        'source <(kvmctl completion bash)',
        'kvmctl completion zsh > "${fpath[1]}/_kvmctl"',
        'kvmctl completion fish > ~/.config/fish/completions/kvmctl.fish',
      ) +
        '\nIt completes nouns, verbs, flags, flag values with choices, and the names of VMs, pools,\n' +
        'POOL/VOLUME, networks and bridges, asked from the host (one call, with the line\'s -c).\n',
    )
    .action((shell: Shell) => app.deps.io.stdout(completionScript(shell)));
}
