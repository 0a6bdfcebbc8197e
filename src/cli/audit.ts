// `stackcheck audit`: the command line of the audit (src/engine/audit.ts): arguments, the terminal, the exit code.
import type { Command } from 'commander';
import { audit } from '../engine/audit.js';
import { EventBus, type RunEvent } from '../log.js';
import { terminalReporter } from '../report/terminal.js';
import { withVariantOption } from './variant-option.js';

interface AuditCommandOptions {
  variant?: string[];
  inventory?: string;
  secrets?: string;
  osCloud?: string;
  openrc?: string;
  functional?: boolean;
  json?: boolean;
  reports: string;
  color?: boolean;
}

// What the terminal shows of an audit: the checks and the notes (no step or stage framing: there are none).
const SHOWN: ReadonlySet<RunEvent['kind']> = new Set(['checks-start', 'check-result', 'checks-end', 'info', 'warn']);

export function registerAudit(program: Command): void {
  withVariantOption(program.command('audit'))
    .description('audit a deployment: every check of every stage of the tutorial, no install steps (read-only unless --functional)')
    .argument('[tutorial]', "what the deployment was built from (default: the lab's deployed tutorial, else tutorial/)")
    .option('-i, --inventory <file>', 'inventory: every check (default: API credentials when given, else the local lab)')
    .option('--secrets <file>', 'secrets file merged into the inventory variables')
    .option('--os-cloud <name>', 'API credentials only: a cloud of clouds.yaml ($OS_CLOUD); host-level checks are not checked')
    .option('--openrc <file>', 'API credentials only: an admin-openrc file (export OS_…= lines; read, not executed)')
    .option('--functional', 'also the mutating checks (boot a server, upload an image…); they clean up after themselves')
    .option('--json', 'print the results as JSON (nothing else on stdout)')
    .option('--reports <dir>', 'where the run folder goes', 'reports')
    .option('--no-color', 'no colours (NO_COLOR is honoured too)')
    .action(async (tutorial: string | undefined, opts: AuditCommandOptions) => {
      const bus = new EventBus();
      const screen = new EventBus();
      bus.on((e) => SHOWN.has(e.kind) && screen.emit(e));
      const off = opts.json ? () => undefined : terminalReporter(screen, { ...(opts.color === false ? { color: false } : {}) });
      // Ctrl-C: the running check finishes (and cleans up what it created), the others are cancelled.
      const abort = new AbortController();
      const onSigint = (): void => {
        if (abort.signal.aborted) process.exit(130);
        process.stderr.write('interrupted: letting the running check finish and clean up (Ctrl-C again to quit at once)\n');
        abort.abort();
      };
      process.on('SIGINT', onSigint);
      try {
        const result = await audit({
          signal: abort.signal,
          ...(tutorial ? { tutorial } : {}),
          ...(opts.inventory ? { inventory: opts.inventory } : {}),
          ...(opts.secrets ? { secrets: opts.secrets } : {}),
          ...(opts.osCloud ? { osCloud: opts.osCloud } : {}),
          ...(opts.openrc ? { openrc: opts.openrc } : {}),
          ...(opts.functional ? { functional: true } : {}),
          ...(opts.variant ? { variants: opts.variant } : {}),
          reports: opts.reports,
          bus,
          ...(opts.json ? { summaryOut: false as const } : {}),
          ...(opts.color === false ? { color: false } : {}),
        });
        if (opts.json) process.stdout.write(`${JSON.stringify({ target: result.target, runDir: result.runDir, results: result.results }, null, 2)}\n`);
        process.exitCode = result.exitCode;
      } finally {
        process.off('SIGINT', onSigint);
        off();
      }
    });
}
