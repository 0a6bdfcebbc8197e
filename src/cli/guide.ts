// `stackcheck guide`: the command line of the guide (src/guide/guide.ts): arguments only.
import type { Command } from 'commander';
import { runGuide, type GuideOptions } from '../guide/guide.js';
import { withVariantOption } from './variant-option.js';

type GuideCommandOptions = Pick<GuideOptions, 'inventory' | 'secrets' | 'from' | 'restart' | 'manual' | 'reports' | 'acceptNewHostKeys' | 'color'> & { variant?: string[] };

export function registerGuide(program: Command): void {
  withVariantOption(program.command('guide'))
    .description('Go through a tutorial step by step: run each step or type it yourself, and after each stage see what is right and what to fix')
    .argument('<tutorial>', 'tutorial Markdown file or folder')
    .option('-i, --inventory <file>', 'inventory YAML (default: the local lab, as `run`)')
    .option('--secrets <file>', 'secrets YAML (variables whose values are never printed)')
    .option('--from <stage>', 'go to this stage (id as shown by `stackcheck plan`); progress is kept')
    .option('--restart', 'start a new guided session instead of continuing the latest one')
    .option('--manual', 'never run anything: you type every step on the hosts, and the checks decide')
    .option('--accept-new-host-keys', 'accept and record host keys not yet in known_hosts (they are logged)')
    .option('--reports <dir>', 'where run folders go', 'reports')
    .option('--no-color', 'no colours (NO_COLOR is honoured too)')
    .action(async (tutorial: string, options: GuideCommandOptions) => {
      const { variant, ...opts } = options;
      if (opts.color !== false) delete opts.color;
      process.exitCode = await runGuide({ ...opts, tutorial, ...(variant ? { variants: variant } : {}) });
    });
}
