// A troubleshooting drill's record: which target, which faults (kept from the student's view: stored as salted
// hashes of their ids, resolved against the catalogue only by `reveal`, `stop` and the report), the checks that were
// not passing before the injection, every `drill check` with what failed, the hints used, and how it ended. It is
// written before anything is injected, so a `drill stop` after a crash of stackcheck still knows what to repair.
// One active drill per target: a pointer file in the state folder, keyed by the inventory's path.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { StackcheckError } from '../error.js';
import type { Catalogue, Fault } from '../faults/catalogue.js';
import { stateDir } from '../state-dir.js';
import { writeAtomicSync } from '../atomic-write.js';

const FaultEntry = z.object({
  /** sha256(salt:id), hex. */
  key: z.string(),
  hints: z.number().int().min(0),
  revealedAt: z.string().optional(),
  repairedAt: z.string().optional(),
});

const CheckRound = z.object({
  at: z.string(),
  /** Check results not passing, as `id@host` (the baseline's left out). */
  failing: z.array(z.string()),
  /** How many faults were repaired at this round. */
  repaired: z.number().int(),
  /** Failures not caused by the drill's faults (something else broke). */
  other: z.array(z.string()),
});

const Record = z.object({
  version: z.literal(1),
  id: z.string(),
  startedAt: z.string(),
  /** When the faults showed (their checks failed): the clock for the time to repair. */
  shownAt: z.string().optional(),
  target: z.object({ inventory: z.string(), lab: z.string().optional(), describe: z.string() }),
  salt: z.string(),
  faults: z.array(FaultEntry).min(1),
  /** The checks a drill check runs (ids), and what the deployment holds. */
  checks: z.array(z.string()),
  installed: z.array(z.string()).optional(),
  /** Results not passing before the injection (`id@host`): not the drill's doing. */
  baseline: z.array(z.string()),
  snapshot: z.string().optional(),
  status: z.enum(['injecting', 'active', 'stopped']),
  rounds: z.array(CheckRound),
  repairedAt: z.string().optional(),
  stoppedAt: z.string().optional(),
  stoppedBy: z.enum(['snapshot', 'catalogue']).optional(),
  /** What the fingerprint taken before the injection covers (fingerprint.ts). */
  fingerprint: z.string().optional(),
  /** After the stop: how the deployment differs from its fingerprint (empty: left as found). */
  differences: z.array(z.string()).optional(),
  /** The drill's folder (its report). */
  dir: z.string(),
});

export type DrillRecord = z.infer<typeof Record>;
export type DrillFaultEntry = z.infer<typeof FaultEntry>;

export function newSalt(): string {
  return randomBytes(16).toString('hex');
}

export function faultKey(salt: string, id: string): string {
  return createHash('sha256').update(`${salt}:${id}`).digest('hex');
}

/** The catalogue fault a recorded entry stands for. */
export function resolveFault(record: Pick<DrillRecord, 'salt'>, entry: Pick<DrillFaultEntry, 'key'>, catalogue: Catalogue): Fault {
  const f = catalogue.faults.find((x) => faultKey(record.salt, x.id) === entry.key);
  if (!f) throw new StackcheckError('E_CATALOGUE', `a fault of this drill is no longer in the catalogue ${catalogue.file} (was it edited since the drill started?)`);
  return f;
}

// The pointer to a target's active drill.
function pointerFile(inventory: string, env: NodeJS.ProcessEnv): string {
  const key = createHash('sha256').update(resolve(inventory)).digest('hex').slice(0, 16);
  return join(stateDir(env), 'drills', `${key}.json`);
}

/** Save a drill: its record in its folder, and the target's pointer to it while it is not stopped. */
export function saveDrill(record: DrillRecord, env: NodeJS.ProcessEnv = process.env): void {
  mkdirSync(record.dir, { recursive: true, mode: 0o700 });
  writeAtomicSync(join(record.dir, 'drill.json'), `${JSON.stringify(record, null, 2)}\n`);
  const pointer = pointerFile(record.target.inventory, env);
  if (record.status === 'stopped') {
    rmSync(pointer, { force: true });
    return;
  }
  mkdirSync(join(stateDir(env), 'drills'), { recursive: true, mode: 0o700 });
  writeAtomicSync(pointer, `${JSON.stringify({ dir: record.dir, startedAt: record.startedAt })}\n`);
}

/** The active drill on a target, if any. */
export function activeDrill(inventory: string, env: NodeJS.ProcessEnv = process.env): DrillRecord | undefined {
  const pointer = pointerFile(inventory, env);
  if (!existsSync(pointer)) return undefined;
  let dir: string;
  try {
    dir = (JSON.parse(readFileSync(pointer, 'utf8')) as { dir: string }).dir;
  } catch (err) {
    throw new StackcheckError('E_ARGS', `the drill pointer ${pointer} is unreadable: remove it to forget that drill`, { cause: err });
  }
  return readDrill(dir);
}

/** A drill's record from its folder. */
export function readDrill(dir: string): DrillRecord {
  const file = join(dir, 'drill.json');
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new StackcheckError('E_ARGS', `cannot read the drill record ${file}: ${(err as Error).message}`, { cause: err });
  }
  const r = Record.safeParse(data);
  if (!r.success) throw new StackcheckError('E_ARGS', `the drill record ${file} is not one stackcheck wrote: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return r.data;
}
