#!/usr/bin/env node
// The `stackcheck` command: parses arguments, dispatches to a command module, maps errors to exit codes.
import { Command, CommanderError } from 'commander';
import { StackcheckError, ExitCode } from './error.js';
import { registerCommands } from './cli/index.js';
import { stackcheckVersion } from './version.js';

export async function main(argv: string[]): Promise<number> {
  const program = new Command('stackcheck')
    .description('Run an OpenStack installation tutorial on real hosts and verify each stage')
    .version(stackcheckVersion())
    // options belong to the command they follow (`grade --out A` and `grade merge … --out B` are different options)
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  registerCommands(program);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0) return ExitCode.ok;
      return ExitCode.badInput;
    }
    if (err instanceof StackcheckError) {
      process.stderr.write(`stackcheck: ${err.message}\n`);
      if (err.hint) process.stderr.write(`  hint: ${err.hint}\n`);
      return err.exitCode;
    }
    process.stderr.write(`stackcheck: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return ExitCode.failed;
  }
}

main(process.argv).then((code) => {
  process.exitCode = code;
});
