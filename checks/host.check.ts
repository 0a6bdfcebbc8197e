// Host pitfalls from the tutorial's troubleshooting page, on each compute host: an empty /etc/machine-id
// (instance spawn fails with IndexError), a full instances directory.
import { checkSuite } from '../src/checks/define.js';
import { CheckBroken, CheckFailure } from '../src/checks/outcome.js';

const { eachCompute, ctx } = checkSuite();

eachCompute('host.machine-id', (compute) => async (s) => {
  const r = await s.run(compute, 'cat /etc/machine-id 2>&1; echo "exit=$?"');
  const id = r.stdout.split('\n')[0]?.trim() ?? '';
  if (!/^[0-9a-f]{32}$/.test(id)) {
    throw new CheckFailure(`a 32-hex-digit machine id in /etc/machine-id on ${compute}`, id === '' ? 'an empty file' : `"${id.slice(0, 60)}"`, [s.commandEvidence(r)]);
  }
}, { always: true });

eachCompute('host.instances-space', (compute) => async (s) => {
  const minMb = Number(ctx.inventory.vars.INSTANCES_MIN_FREE_MB ?? 2048);
  const dir = ctx.inventory.vars.INSTANCES_PATH ?? '/var/lib/nova/instances';
  const r = await s.run(compute, `d=${dir}; [ -d "$d" ] || { echo "NO_DIR"; exit 0; }; df -Pk "$d" | tail -n 1`);
  if (r.stdout.startsWith('NO_DIR')) throw new CheckBroken(`${dir} does not exist on ${compute} (nova-compute not installed yet)`);
  const cols = r.stdout.trim().split(/\s+/);
  const freeMb = Math.floor(Number(cols[3]) / 1024);
  if (!Number.isFinite(freeMb)) throw new CheckFailure(`df output for ${dir}`, r.stdout.trim() || r.stderr.trim(), [s.commandEvidence(r)]);
  if (freeMb < minMb) {
    throw new CheckFailure(`at least ${minMb} MB free in ${dir} on ${compute}`, `${freeMb} MB free (${cols[4] ?? '?'} used; look for big files: du -sh ${dir}/*)`, [s.commandEvidence(r)]);
  }
});
