// Output handling (issue 15 #6): a step printing 200 MB, through the built CLI (`stackcheck run` on the test sshd),
// side by side with OpenSSH writing the same output to a file (`ssh host cmd > file`). Prints wall times, their ratio,
// and stackcheck's peak RSS (VmHWM of the CLI process) — the bound the reliability page promises.
// Run: npx vitest bench --run --config bench/vitest.bench.config.ts bench/output.bench.ts
import { afterAll, beforeAll, bench, describe } from 'vitest';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSshd, type TestSshd } from '../test/helpers/sshd.js';
import { buildCli, CLI } from '../test/helpers/build.js';
import { tempDir } from '../test/helpers/tmp.js';

const MB = Number(process.env.OUTPUT_MB ?? 200);
const CMD = `head -c ${MB * 1024 * 1024} /dev/zero | tr '\\0' 'x' | fold -w 100`;
let sshd: TestSshd;
let dir: string;
const figures: Record<string, number> = {};

// Run a process; its wall time and (polling /proc) its peak resident set.
function measure(cmd: string, args: string[], out?: string): Promise<{ ms: number; peakMb: number; code: number | null }> {
  const t0 = performance.now();
  const p = spawn(cmd, args, { stdio: ['ignore', out ? 'pipe' : 'ignore', 'ignore'], env: { ...process.env, NO_COLOR: '1' } });
  let peak = 0;
  const poll = setInterval(() => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${p.pid}/status`, 'utf8'));
      if (m) peak = Math.max(peak, Number(m[1]) / 1024);
    } catch {
      // gone
    }
  }, 50);
  if (out && p.stdout) {
    const chunks: Buffer[] = [];
    p.stdout.on('data', (d: Buffer) => (chunks.length < 1 ? chunks.push(d) : undefined));
  }
  return new Promise((res) =>
    p.on('close', (code) => {
      clearInterval(poll);
      res({ ms: performance.now() - t0, peakMb: Math.round(peak), code });
    }),
  );
}

beforeAll(async () => {
  buildCli();
  sshd = await startSshd();
  dir = tempDir('sc-bench-output-');
  writeFileSync(join(dir, 'inv.yaml'), ['ssh:', `  known_hosts: ${sshd.knownHostsFile}`, 'hosts:', '  node:', '    address: 127.0.0.1', `    port: ${sshd.port}`, `    user: ${sshd.user}`, `    key: ${sshd.keyFile}`, ''].join('\n'));
  writeFileSync(join(dir, 'big.md'), `# Big\n\n## Print\n\n\`\`\`sh host=node\n${CMD}\n\`\`\`\n`);
}, 300_000);

afterAll(async () => {
  await sshd?.stop();
  const ratio = figures.stackcheckMs && figures.sshMs ? (figures.stackcheckMs / figures.sshMs).toFixed(2) : '?';
  process.stdout.write(
    `\noutput handling, a step printing ${MB} MB:\n` +
      `  ssh host cmd > file:      ${(figures.sshMs! / 1000).toFixed(1)} s, peak RSS ${figures.sshPeak} MB\n` +
      `  stackcheck run (to /dev/null terminal): ${(figures.stackcheckMs! / 1000).toFixed(1)} s, peak RSS ${figures.stackcheckPeak} MB\n` +
      `  ratio stackcheck / ssh: ${ratio}×\n`,
  );
});

describe(`a step printing ${MB} MB`, () => {
  bench(
    'ssh host cmd > file',
    async () => {
      const r = await measure('bash', ['-c', `ssh -o BatchMode=yes -o UserKnownHostsFile=${sshd.knownHostsFile} -i ${sshd.keyFile} -p ${sshd.port} ${sshd.user}@127.0.0.1 "${CMD}" > ${join(dir, 'out.txt')}`]);
      figures.sshMs = r.ms;
      figures.sshPeak = r.peakMb;
    },
    { iterations: 1, warmupIterations: 0 },
  );
  bench(
    'stackcheck run',
    async () => {
      const r = await measure(process.execPath, [CLI, 'run', join(dir, 'big.md'), '--inventory', join(dir, 'inv.yaml'), '--reports', join(dir, 'reports')]);
      if (r.code !== 0) throw new Error(`stackcheck run exited ${r.code}`);
      figures.stackcheckMs = r.ms;
      figures.stackcheckPeak = r.peakMb;
    },
    { iterations: 1, warmupIterations: 0 },
  );
});
