// Registers every sub-command. Each command lives in its own module under src/cli/.
import type { Command } from 'commander';
import { registerLab } from './lab.js';
import { registerReport } from './report.js';

export function registerCommands(program: Command): void {
  registerLab(program);
  registerReport(program);
  // commands are added here: plan, run, lab, check, report, guide, audit, grade
}
