// `stackcheck report [RUN...]`: build the HTML report of one run (or several runs / students merged)
// offline; `--serve` serves it on 127.0.0.1, `--open` opens it in the desktop's browser.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { StackcheckError } from '../error.js';
import { buildReport } from '../report/html.js';
import { serveReport } from '../report/serve.js';
import { historyRecorded, markHistoryRecorded } from '../report/run-reports.js';

interface ReportOptions {
  reports: string;
  out?: string;
  serve?: boolean;
  open?: boolean;
  port?: string;
  history: boolean;
}

// A RUN argument is a run id under the reports folder, or a path to a run folder; none means `latest`.
export function resolveRunDir(reportsDir: string, run: string | undefined): string {
  const candidates = run ? [resolve(reportsDir, run), resolve(run)] : [resolve(reportsDir, 'latest')];
  for (const c of candidates) {
    if (existsSync(join(c, 'allure-results'))) return realpathSync(c);
  }
  throw new StackcheckError('E_ARGS', run ? `no run "${run}" with Allure results under ${resolve(reportsDir)}` : `no run yet under ${resolve(reportsDir)}`, {
    hint: 'run `stackcheck run` or `stackcheck check` first, or name a run folder',
  });
}

// The inventory (deployment/student) a run was for, from its summary or Allure environment file.
function inventoryOf(runDir: string): string | undefined {
  for (const f of ['summary.json', 'run.json']) {
    try {
      const inv = (JSON.parse(readFileSync(join(runDir, f), 'utf8')) as { inventory?: string }).inventory;
      if (inv) return basename(inv).replace(/\.ya?ml$/, '');
    } catch {
      // try the next source
    }
  }
  try {
    return /^inventory\s*=\s*(.+)$/m.exec(readFileSync(join(runDir, 'allure-results', 'environment.properties'), 'utf8'))?.[1]?.trim();
  } catch {
    return undefined;
  }
}

// Hand a file or URL to the desktop (best effort: a headless machine has none).
function openInBrowser(target: string): void {
  const child = spawn('xdg-open', [target], { detached: true, stdio: 'ignore' });
  child.on('error', () => process.stderr.write(`(no desktop browser found; open ${target} yourself)\n`));
  child.unref();
}

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('Build the HTML report of a run (several runs are merged into one report)')
    .argument('[runs...]', 'run ids or run folders (default: the latest run)')
    .option('--reports <dir>', 'folder holding the runs', 'reports')
    .option('--out <dir>', 'where to write html/ and report.html (default: the run folder; for several runs reports/merged)')
    .option('--serve', 'serve the multi-file report on 127.0.0.1 until interrupted')
    .option('--port <n>', 'port for --serve (default: any free port)')
    .option('--open', 'open the report in the desktop browser')
    .option('--no-history', 'neither read nor add to the history/trend file')
    .action(async (runs: string[], opts: ReportOptions) => {
      const runDirs = (runs.length > 0 ? runs : [undefined]).map((r) => resolveRunDir(opts.reports, r));
      const outDir = resolve(opts.out ?? (runDirs.length === 1 ? (runDirs[0] as string) : join(opts.reports, 'merged')));
      const inventories = [...new Set(runDirs.map(inventoryOf).filter((i): i is string => !!i))];
      const port = opts.port === undefined ? 0 : Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new StackcheckError('E_ARGS', `--port must be a port number, got "${opts.port}"`);
      // Each run adds one point to the trend; rebuilding a report or merging runs only reads the history.
      const single = runDirs.length === 1 ? (runDirs[0] as string) : undefined;
      const append = opts.history && single !== undefined && !historyRecorded(single);
      const built = await buildReport({
        resultsDirs: runDirs.map((d) => join(d, 'allure-results')),
        outDir,
        name: `stackcheck — ${inventories.join(', ') || basename(runDirs[0] as string)}`,
        inventories,
        // One history file for all runs under the reports folder: trends follow each (student, check, host).
        ...(opts.history ? { historyPath: join(resolve(opts.reports), 'allure-history.jsonl'), appendHistory: append } : {}),
      });
      if (append && single) markHistoryRecorded(single);
      process.stdout.write(`Report: ${built.singleFile}  (one file, opens from disk)\n        ${built.htmlDir}/  (serve with: stackcheck report --serve)\n`);
      if (opts.serve) {
        const server = await serveReport(built.htmlDir, port);
        process.stdout.write(`Serving on ${server.url} (127.0.0.1 only) — Ctrl-C to stop\n`);
        if (opts.open) openInBrowser(server.url);
        await new Promise<void>((done) => {
          const stop = (): void => void server.close().then(done);
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
      } else if (opts.open) openInBrowser(built.singleFile);
    });
}
