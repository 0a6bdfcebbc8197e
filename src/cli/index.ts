// Registers every sub-command. Each command lives in its own module under src/cli/.
import type { Command } from 'commander';
import { registerLab } from './lab.js';

export function registerCommands(program: Command): void {
  registerLab(program);
  // commands are added here: plan, run, lab, check, report, guide, audit, grade
}
