// `stackcheck grade` and `stackcheck grade merge`: the command line of src/grade (arguments, progress, exit code).
import type { Command } from 'commander';
import { StackcheckError } from '../error.js';
import { grade } from '../grade/grade.js';
import { mergeGradebooks, writeGradebook } from '../grade/gradebook.js';
import { parseShard } from '../grade/roster.js';
import { defaultRubric, loadRubric } from '../grade/rubric.js';
import { parseDuration } from '../duration.js';

interface GradeCommandOptions {
  roster?: string;
  template?: string;
  rubric?: string;
  tutorial: string;
  concurrency: string;
  timeout: string;
  shard?: string;
  out: string;
}

export function registerGrade(program: Command): void {
  const cmd = program
    .command('grade')
    .description("grade a class: every student's deployment checked (read-only, side by side), scored with the rubric, into a gradebook")
    .option('--roster <file>', 'the class: CSV or YAML, one row per student (id, name, inventory or template values)')
    .option('--template <file>', 'inventory template filled from each row (when the roster names none)')
    .option('--rubric <file>', "points per check or component (default: the checks' weights, scaled to 100)")
    .option('--tutorial <path>', 'the tutorial the class followed (what every deployment must hold)', 'tutorial')
    .option('--concurrency <n>', 'students graded at once', '4')
    .option('--timeout <duration>', 'per student (e.g. 90s, 10m)', '10m')
    .option('--shard <i/n>', 'grade only the i-th of n deterministic slices of the roster (merge them with `stackcheck grade merge`)')
    .option('--out <dir>', 'where the gradebook goes', 'gradebook')
    // `grade merge … --out DIR`: options after the sub-command are the sub-command's
    .enablePositionalOptions()
    .action(async (opts: GradeCommandOptions) => {
      if (!opts.roster) throw new StackcheckError('E_ARGS', 'grade: --roster FILE is required (CSV or YAML: one row per student)');
      const concurrency = Number(opts.concurrency);
      if (!/^\d+$/.test(opts.concurrency)) throw new StackcheckError('E_ARGS', `--concurrency ${opts.concurrency}: expected a whole number`);
      const timeoutMs = parseDuration(opts.timeout);
      if (timeoutMs === undefined) throw new StackcheckError('E_ARGS', `--timeout ${opts.timeout}: expected a duration such as 90s or 10m`);
      const book = await grade({
        roster: opts.roster,
        tutorial: opts.tutorial,
        concurrency,
        timeoutMs,
        ...(opts.template ? { template: opts.template } : {}),
        ...(opts.rubric ? { rubric: opts.rubric } : {}),
        ...(opts.shard ? { shard: parseShard(opts.shard) } : {}),
        progress: (line) => process.stderr.write(`${line}\n`),
      });
      const rubric = opts.rubric ? loadRubric(opts.rubric) : defaultRubric();
      const files = writeGradebook(book, opts.out, Object.keys(rubric.points));
      const graded = book.students.filter((s) => s.status === 'graded').length;
      process.stdout.write(`graded ${book.students.length} student(s) (${graded} reachable): ${files.csv}, ${files.json}, ${files.overview}\n`);
      process.exitCode = 0;
    });
  cmd
    .command('merge')
    .description('combine the --out folders of grade shards into one gradebook')
    .argument('<dirs...>', 'the shard folders')
    .option('--rubric <file>', 'the rubric the shards used (for the overview)')
    .option('--out <dir>', 'where the merged gradebook goes', 'gradebook')
    .action((dirs: string[], opts: { rubric?: string; out: string }) => {
      const book = mergeGradebooks(dirs);
      const rubric = opts.rubric ? loadRubric(opts.rubric) : defaultRubric();
      const files = writeGradebook(book, opts.out, Object.keys(rubric.points));
      process.stdout.write(`merged ${book.students.length} student(s) from ${dirs.length} shard(s): ${files.csv}\n`);
    });
}
