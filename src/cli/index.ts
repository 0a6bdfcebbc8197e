// Registers every sub-command. Each command lives in its own module under src/cli/.
import type { Command } from 'commander';
import { registerLab } from './lab.js';
import { registerReport } from './report.js';
import { registerPlan } from './plan.js';
import { registerRun } from './run.js';
import { registerCheck } from './check.js';
import { registerGuide } from './guide.js';
import { registerAudit } from './audit.js';
import { registerGrade } from './grade.js';
import { registerDrill } from './drill.js';

export function registerCommands(program: Command): void {
  registerPlan(program);
  registerRun(program);
  registerLab(program);
  registerReport(program);
  registerCheck(program);
  registerGuide(program);
  registerAudit(program);
  registerGrade(program);
  registerDrill(program);
  // commands are added here: plan, run, lab, check, report, guide, audit, grade
}
