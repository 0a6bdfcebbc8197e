// What is deployed on a lab: the tutorial whose stages installed services there, which of its stages ran, and the
// variables file they were filled from. `check`, `audit` and the reports read the deployment from here, so a small
// tutorial run on the lab later (a fixture, a one-off fix: it installs nothing) does not change what they check.
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { labDir } from './state.js';

const StageRecord = z.object({
  id: z.string(),
  title: z.string(),
  installs: z.array(z.string()),
  /** When its steps last completed on the lab (ISO time); absent: not run (yet). */
  doneAt: z.string().optional(),
});

const TutorialRecord = z.object({
  /** Absolute path of the tutorial file or folder. */
  source: z.string(),
  title: z.string().optional(),
  /** The variables file the lab inventory was filled from (`<tutorial>/vars/lab.yaml`), if any. */
  varsFile: z.string().optional(),
  stages: z.array(StageRecord),
  updatedAt: z.string(),
});

const DeploymentFile = z.object({
  /** The tutorial that installed services on the lab (what `check` checks). */
  deployment: TutorialRecord.optional(),
  /** Tutorials that ran on the lab without installing anything (most recent first, a few kept). */
  alsoRan: z.array(TutorialRecord).default([]),
});

export type LabTutorialRecord = z.infer<typeof TutorialRecord>;
export type LabDeployment = z.infer<typeof DeploymentFile>;

/** A tutorial as the record needs it (what `parseTutorial` gives, reduced). */
export interface TutorialShape {
  source: string;
  title?: string;
  stages: readonly { id: string; title: string; installs?: { keys: string[] } }[];
}

const ALSO_RAN_KEPT = 5;

function file(lab: string): string {
  return join(labDir(lab), 'deployment.json');
}

/**
 * The deployment's variables as they were when its stages ran: a copy of its vars file kept in the lab's folder
 * (root only), so the lab's inventory keeps the passwords the hosts really hold when the tutorial's folder is
 * moved, edited or deleted (a CI clone, a course repository checked out elsewhere).
 */
export function deploymentVarsCopy(lab: string): string {
  return join(labDir(lab), 'deployment-vars.yaml');
}

/** The lab's record (empty when nothing ran on it, or the record is unreadable: a stale record is worse than none). */
export function readDeployment(lab: string): LabDeployment {
  const f = file(lab);
  if (!existsSync(f)) return { alsoRan: [] };
  try {
    return DeploymentFile.parse(JSON.parse(readFileSync(f, 'utf8')));
  } catch {
    return { alsoRan: [] };
  }
}

/** Put a record back (a snapshot's copy): validated, an unreadable one forgets the deployment instead. */
export function writeDeployment(lab: string, data: unknown): void {
  const parsed = DeploymentFile.safeParse(data);
  if (parsed.success) write(lab, parsed.data);
  else clearDeployment(lab);
}

function write(lab: string, d: LabDeployment): void {
  mkdirSync(labDir(lab), { recursive: true, mode: 0o700 });
  writeFileSync(file(lab), `${JSON.stringify(d, null, 2)}\n`, { mode: 0o600 });
}

/** Forget what is deployed (the hosts were rebuilt from the base: they hold nothing). */
export function clearDeployment(lab: string): void {
  rmSync(file(lab), { force: true });
  rmSync(deploymentVarsCopy(lab), { force: true });
}

/** Whether a tutorial declares that any of its stages installs something. */
export function installsAnything(t: TutorialShape): boolean {
  return t.stages.some((s) => (s.installs?.keys.length ?? 0) > 0);
}

// A fresh record of a tutorial, no stage done.
function recordOf(t: TutorialShape, varsFile: string | undefined): LabTutorialRecord {
  return {
    source: resolve(t.source),
    ...(t.title ? { title: t.title } : {}),
    ...(varsFile ? { varsFile: resolve(varsFile) } : {}),
    stages: t.stages.map((s) => ({ id: s.id, title: s.title, installs: s.installs?.keys ?? [] })),
    updatedAt: new Date().toISOString(),
  };
}

/**
 * Record that a stage's steps completed on the lab. A tutorial that installs something becomes the lab's deployment
 * (replacing another one: it now builds on these hosts); one that installs nothing is only remembered as having run.
 */
export function recordStageDone(lab: string, t: TutorialShape, stageId: string, varsFile: string | undefined, builtOn: readonly string[] = []): LabDeployment {
  const d = readDeployment(lab);
  const source = resolve(t.source);
  const now = new Date().toISOString();
  // The stage is done now; the stages it builds on were in place (a run `--from` a later stage says so, and the
  // stage's own checks expected them): they count as done when not recorded yet.
  const mark = (r: LabTutorialRecord): LabTutorialRecord => ({
    ...r,
    ...(varsFile ? { varsFile: resolve(varsFile) } : {}),
    stages: r.stages.map((s) => (s.id === stageId || (builtOn.includes(s.id) && !s.doneAt) ? { ...s, doneAt: now } : s)),
    updatedAt: now,
  });
  if (installsAnything(t)) {
    // Same tutorial: keep the stages done before (a resumed or partial run); its stage list may have changed.
    const before = d.deployment?.source === source ? d.deployment : undefined;
    const fresh = recordOf(t, varsFile ?? before?.varsFile);
    const doneBefore = new Map((before?.stages ?? []).flatMap((s) => (s.doneAt ? [[s.id, s.doneAt] as const] : [])));
    const stages = fresh.stages.map((s) => {
      const at = doneBefore.get(s.id);
      return at ? { ...s, doneAt: at } : s;
    });
    d.deployment = mark({ ...fresh, stages });
    if (varsFile) {
      mkdirSync(labDir(lab), { recursive: true, mode: 0o700 });
      copyFileSync(varsFile, deploymentVarsCopy(lab));
      chmodSync(deploymentVarsCopy(lab), 0o600);
    }
  } else {
    const before = d.alsoRan.find((r) => r.source === source);
    const entry = mark(before ?? recordOf(t, varsFile));
    d.alsoRan = [entry, ...d.alsoRan.filter((r) => r.source !== source)].slice(0, ALSO_RAN_KEPT);
  }
  write(lab, d);
  return d;
}

/** What the deployment's completed stages installed (install keys, in stage order). */
export function deployedInstalls(r: LabTutorialRecord): string[] {
  return [...new Set(r.stages.filter((s) => s.doneAt).flatMap((s) => s.installs))];
}

/** One line for `lab status`: which tutorial, how many stages done, what is installed. */
export function describeRecord(r: LabTutorialRecord): string {
  const done = r.stages.flatMap((s) => (s.doneAt ? [s.doneAt] : []));
  const last = [...done].sort().at(-1);
  return `${r.title ?? basename(r.source)} (${r.source}): ${done.length}/${r.stages.length} stages done${last ? `, last ${last.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}` : ''}`;
}

/** Where a run of this tutorial keeps its own lab inventory (so it never overwrites the deployment's). */
export function tutorialInventoryPath(lab: string, tutorialSource: string): string {
  const abs = resolve(tutorialSource);
  const slug = basename(abs).replace(/[^A-Za-z0-9._-]/g, '_') || 'tutorial';
  const hash = createHash('sha256').update(abs).digest('hex').slice(0, 8);
  return join(labDir(lab), 'tutorials', `${slug}-${hash}`, 'inventory.yaml');
}
