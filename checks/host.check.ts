// Host pitfalls from the tutorial's troubleshooting page, on each compute host: an empty /etc/machine-id
// (instance spawn fails with IndexError), a full instances directory.
import { checkSuite } from '../src/checks/define.js';
import { CheckBroken, CheckFailure } from '../src/checks/outcome.js';

const { eachCompute, ctx } = checkSuite();

eachCompute('host.machine-id', (compute) => async (s) => {
  const r = await s.run(compute, 'if [ -e /etc/machine-id ]; then printf "ID=%s\\n" "$(head -c 200 /etc/machine-id | tr -d "\\n")"; else echo MISSING; fi');
  const line = r.stdout.split('\n').find((l) => l.startsWith('ID=') || l === 'MISSING');
  if (line === undefined) throw new CheckBroken(`cannot read /etc/machine-id on ${compute}`, [s.commandEvidence(r)]);
  const id = line === 'MISSING' ? undefined : line.slice(3).trim();
  if (id === undefined || !/^[0-9a-f]{32}$/.test(id)) {
    const found = id === undefined ? 'no such file' : id === '' ? 'an empty file' : `"${id.slice(0, 60)}"`;
    throw new CheckFailure(`a 32-hex-digit machine id in /etc/machine-id on ${compute}`, found, [s.commandEvidence(r)]);
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
