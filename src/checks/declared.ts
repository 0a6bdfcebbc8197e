// What a tutorial declares about its checks: which checks each stage runs (`<!-- checks: … -->`) and what each stage
// installs (`<!-- installs: … -->`). From these alone (never from a heading's words) follows what the checks expect
// after a stage, and whether a declared check can produce a result there at all.
import { InputErrors, StackcheckError } from '../error.js';
import type { Stage, Tutorial } from '../runner/types.js';
import { INSTALL_KEYS, isInstallKey, type InstallKey } from './expect.js';
import { CHECK_GROUPS, checkMeta, isKnownCheck, selectChecks } from './registry.js';

/** The stages a stage builds on: its `after` stages and theirs, or every stage before it when it has no `after`. */
export function stagesBefore(tutorial: Tutorial, stageId: string): Stage[] {
  const index = new Map(tutorial.stages.map((s, i) => [s.id, i]));
  const seen = new Set<string>();
  const visit = (id: string): void => {
    const i = index.get(id);
    if (i === undefined) return;
    const stage = tutorial.stages[i]!;
    const deps = stage.after ? stage.after.ids : tutorial.stages.slice(0, i).map((s) => s.id);
    for (const d of deps) {
      if (seen.has(d)) continue;
      seen.add(d);
      visit(d);
    }
  };
  visit(stageId);
  return tutorial.stages.filter((s) => seen.has(s.id));
}

/** What the deployment holds once a stage has run: the installs of the stages it builds on, and its own. */
export function installedAfter(tutorial: Tutorial, stageId: string): InstallKey[] {
  const stage = tutorial.stages.find((s) => s.id === stageId);
  const keys = new Set<string>([...stagesBefore(tutorial, stageId), ...(stage ? [stage] : [])].flatMap((s) => s.installs?.keys ?? []));
  return INSTALL_KEYS.filter((k) => keys.has(k));
}

/** What a whole tutorial installs (every stage run). */
export function installedByAll(tutorial: Tutorial): InstallKey[] {
  const keys = new Set(tutorial.stages.flatMap((s) => s.installs?.keys ?? []));
  return INSTALL_KEYS.filter((k) => keys.has(k));
}

/** The stages of a tutorial as reports and remedies need them: id, title and what each installs. */
export function stageScope(tutorial: Tutorial): { id: string; title: string; installs: string[] }[] {
  return tutorial.stages.map((s) => ({ id: s.id, title: s.title, installs: s.installs?.keys ?? [] }));
}

/**
 * Every declaration must make sense before anything runs (exit 2, at the comment's file:line): known install keys,
 * known check ids, and each check a stage names must have something to look at once that stage ran.
 */
export function validateStageDeclarations(tutorial: Tutorial): void {
  const errors: StackcheckError[] = [];
  for (const stage of tutorial.stages) {
    const installsAt = { file: stage.loc.file, line: stage.installs?.line ?? stage.loc.line };
    for (const key of stage.installs?.keys ?? []) {
      if (!isInstallKey(key)) {
        errors.push(
          new StackcheckError('E_TUTORIAL', `stage "${stage.id}": "${key}" is not something a stage can install`, {
            location: installsAt,
            hint: `install keys: ${INSTALL_KEYS.join(', ')}`,
          }),
        );
      }
    }
    if (stage.checks.length === 0) continue;
    try {
      selectChecks(stage.checks);
    } catch (err) {
      errors.push(new StackcheckError('E_TUTORIAL', `stage "${stage.id}": ${err instanceof Error ? err.message : String(err)}`, { location: stage.loc, hint: 'stackcheck check --list shows every check id' }));
      continue;
    }
    const installed = new Set<string>(installedAfter(tutorial, stage.id));
    for (const id of stage.checks) {
      if (!isKnownCheck(id) || id in CHECK_GROUPS) continue;
      const missing = checkMeta(id).needs.filter((k) => !installed.has(k));
      if (missing.length === 0) continue;
      const where = missing.map((k) => {
        const by = tutorial.stages.find((s) => s.installs?.keys.includes(k));
        return by ? `${k} (installed by "${by.id}", which this stage does not come after)` : `${k} (installed by no stage: add <!-- installs: ${k} --> to the stage that installs it)`;
      });
      errors.push(
        new StackcheckError('E_TUTORIAL', `stage "${stage.id}" declares ${id}, which needs ${where.join(' and ')}: it could produce no result here`, {
          location: stage.loc,
          hint: 'declare the check at a stage that comes after what it needs, or add that stage to this one\'s <!-- after: … --> comment',
        }),
      );
    }
  }
  if (errors.length > 0) throw new InputErrors(errors);
}
