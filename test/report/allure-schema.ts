// The Allure result file format (allure-js-commons model: TestResult / StepResult / Attachment), as a zod schema,
// plus a reader that validates every *-result.json of a results folder and that referenced attachments exist.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

const label = z.object({ name: z.string().min(1), value: z.string() });
const attachment = z.object({ name: z.string(), source: z.string().min(1), type: z.string().min(1) });
const parameter = z.object({ name: z.string(), value: z.string(), excluded: z.boolean().optional(), mode: z.enum(['default', 'masked', 'hidden']).optional() });
const status = z.enum(['passed', 'failed', 'broken', 'skipped', 'unknown']);
const statusDetails = z.object({ message: z.string().optional(), trace: z.string().optional() }).passthrough();

// allure-js writes attachments added at runtime as steps of their own, without `steps` or `status`.
interface Step {
  name: string;
  status?: string;
  steps?: Step[];
  attachments: z.infer<typeof attachment>[];
}
const step: z.ZodType<Step> = z.lazy(() =>
  z.object({ name: z.string(), status: status.optional(), steps: z.array(step).optional(), attachments: z.array(attachment) }).passthrough(),
) as z.ZodType<Step>;

export const testResultSchema = z
  .object({
    uuid: z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
    name: z.string().min(1),
    fullName: z.string().optional(),
    historyId: z.string().min(1),
    testCaseId: z.string().min(1).optional(),
    status,
    statusDetails,
    stage: z.enum(['scheduled', 'running', 'finished', 'pending', 'interrupted']),
    description: z.string().optional(),
    steps: z.array(step),
    attachments: z.array(attachment),
    parameters: z.array(parameter),
    labels: z.array(label),
    links: z.array(z.object({ url: z.string() }).passthrough()),
    start: z.number().int().positive(),
    stop: z.number().int().positive(),
  })
  .passthrough()
  .refine((r) => r.stop >= r.start, 'stop before start');

export type AllureResult = z.infer<typeof testResultSchema>;

/** Every attachment of a result and of its steps, recursively. */
export function attachmentsOf(r: { attachments: z.infer<typeof attachment>[]; steps?: Step[] }): z.infer<typeof attachment>[] {
  return [...r.attachments, ...(r.steps ?? []).flatMap((s) => attachmentsOf(s))];
}

/** Read and validate all results of a folder; throws with the file name on the first invalid one. */
export function readAllureResults(dir: string): AllureResult[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('-result.json'));
  return files.map((f) => {
    const parsed = testResultSchema.safeParse(JSON.parse(readFileSync(join(dir, f), 'utf8')));
    if (!parsed.success) throw new Error(`${f}: ${parsed.error.message}`);
    for (const a of attachmentsOf(parsed.data)) {
      if (!existsSync(join(dir, a.source))) throw new Error(`${f}: attachment ${a.name} → ${a.source} does not exist`);
    }
    return parsed.data;
  });
}

/** The value of the (last) label `name`. */
export function labelOf(r: AllureResult, name: string): string | undefined {
  return r.labels.filter((l) => l.name === name).pop()?.value;
}

/** The text of an attachment by name. */
export function attachmentText(dir: string, r: AllureResult, name: string): string | undefined {
  const a = r.attachments.find((x) => x.name === name);
  return a ? readFileSync(join(dir, a.source), 'utf8') : undefined;
}
