// Grading throughput: a roster of 30 entries against a roster of 1, default concurrency, side by side in one run
// (the built CLI; time and peak RSS of the stackcheck process). Needs the lab deployed (`npm run test:tutorial`) and
// the chk lab (`npm test` brings it up). Run: npx vitest bench --run --config bench/vitest.bench.config.ts grade
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, bench, describe } from 'vitest';
import { buildCli, CLI, ROOT } from '../test/helpers/build.js';
import { CHK_VARS } from '../test/checks/chk-target.js';
import { labDir } from '../src/lab/state.js';

const LAB_INVENTORY = '/var/lib/stackcheck/lab/lab/inventory.yaml';
let dir: string;
const peaks: Record<string, number> = {};
const times: Record<string, number> = {};

// The CLI once; its peak memory (VmHWM, read from /proc while it runs) and wall time recorded under `name`.
function grade(name: string, roster: string): Promise<void> {
  return new Promise((done, fail) => {
    const started = Date.now();
    const p = spawn(process.execPath, [CLI, 'grade', '--roster', roster, '--tutorial', 'tutorial', '--out', join(dir, name)], { cwd: ROOT, stdio: 'ignore' });
    let peak = 0;
    const watch = setInterval(() => {
      try {
        peak = Math.max(peak, Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${p.pid}/status`, 'utf8'))?.[1] ?? 0));
      } catch {
        // exited
      }
    }, 100);
    p.on('close', (code) => {
      clearInterval(watch);
      peaks[name] = Math.round(peak / 1024);
      times[name] = Date.now() - started;
      if (code === 0) done();
      else fail(new Error(`grade ${name} exited ${code}`));
    });
  });
}

beforeAll(() => {
  buildCli();
  dir = mkdtempSync(join(tmpdir(), 'grade-bench-'));
  const lab = readFileSync(LAB_INVENTORY, 'utf8').replace('key: ./id_ed25519', `key: ${labDir('lab')}/id_ed25519`).replace('known_hosts: ./known_hosts', `known_hosts: ${labDir('lab')}/known_hosts`);
  writeFileSync(join(dir, 'lab.yaml'), lab, { mode: 0o600 });
  const c = labDir('chk');
  writeFileSync(
    join(dir, 'chk.yaml'),
    ['ssh:', '  user: root', `  key: ${c}/id_ed25519`, `  known_hosts: ${c}/known_hosts`, 'hosts:', `  db-node: { address: ${CHK_VARS.DB_NODE_IP}, hostname: db-node }`, `  auth-node: { address: ${CHK_VARS.DB_NODE_IP}, hostname: db-node }`, 'vars:', ...Object.entries(CHK_VARS).map(([k, v]) => `  ${k}: "${v}"`), ''].join('\n'),
    { mode: 0o600 },
  );
  writeFileSync(join(dir, 'one.yaml'), 'students:\n  - { id: s00, name: One, inventory: lab.yaml }\n');
  writeFileSync(join(dir, 'thirty.yaml'), ['students:', ...Array.from({ length: 30 }, (_, i) => `  - { id: s${String(i + 1).padStart(2, '0')}, name: Student ${i + 1}, inventory: ${i % 2 ? 'chk.yaml' : 'lab.yaml'} }`), ''].join('\n'));
});

afterAll(() => {
  const one = times.one ?? 0;
  const thirty = times.thirty ?? 0;
  console.log(`grade: 1 entry ${one} ms, peak RSS ${peaks.one ?? 0} MB; 30 entries ${thirty} ms, peak RSS ${peaks.thirty ?? 0} MB; 30/1 = ${one ? (thirty / one).toFixed(2) : '?'} (target under 3, under 300 MB)`);
  rmSync(dir, { recursive: true, force: true });
});

describe('grade: 30 roster entries vs 1', () => {
  bench('1 entry (the full lab)', () => grade('one', join(dir, 'one.yaml')), { iterations: 1, warmupIterations: 0, time: 0 });
  bench('30 entries (15 x the full lab, 15 x the chk lab)', () => grade('thirty', join(dir, 'thirty.yaml')), { iterations: 1, warmupIterations: 0, time: 0 });
});
