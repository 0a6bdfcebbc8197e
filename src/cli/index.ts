// Registers every sub-command. Each command lives in its own module under src/cli/.
import type { Command } from 'commander';

export function registerCommands(_program: Command): void {
  // commands are added here: plan, run, lab, check, report, guide, audit, grade
}
