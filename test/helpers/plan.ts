// Build small plans by hand for runner tests (the parser has its own tests).
import type { Inventory } from '../../src/inventory/types.js';
import type { FileStep, Plan, ShellStep, Stage, Step } from '../../src/runner/types.js';

type ShellInit = Partial<ShellStep> & { command: string };
type FileInit = Partial<FileStep> & { path: string; content: string };

/** A shell step on `host` (role), root by default. */
export function sh(host: string, init: ShellInit): Omit<ShellStep, 'id' | 'stage' | 'loc'> & Partial<ShellStep> {
  return { kind: 'shell', host, root: true, expectExit: [0], retries: 0, ...init };
}

/** A file step on `host` (role), root by default. */
export function file(host: string, init: FileInit): Omit<FileStep, 'id' | 'stage' | 'loc'> & Partial<FileStep> {
  return { kind: 'file', host, root: true, expectExit: [0], retries: 0, mode: 'replace', ...init };
}

/** A plan with stages `{ id: [steps] }`; step ids, stages and locations filled in like the parser does. */
export function makePlan(inventory: Inventory, stages: Record<string, Array<Omit<Step, 'id' | 'stage' | 'loc'>>>, secrets: string[] = []): Plan {
  let line = 1;
  const out: Stage[] = Object.entries(stages).map(([id, steps]) => ({
    id,
    title: `Stage ${id}`,
    checks: [],
    loc: { file: 'fixture.md', line: line++ },
    steps: steps.map((s, i) => ({ ...s, id: `${id}/${i + 1}`, stage: id, loc: { file: 'fixture.md', line: line++ } }) as Step),
  }));
  return { tutorial: { source: '/fixture/tutorial.md', stages: out }, inventory, secrets };
}
