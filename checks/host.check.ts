// Host pitfalls from the tutorial's troubleshooting page, on each compute host: an empty /etc/machine-id
// (instance spawn fails with IndexError), a full instances directory. On every host: the names of all the hosts
// resolve to the inventory's addresses (the tutorial's /etc/hosts), and the clocks agree.
import { checkSuite } from '../src/checks/define.js';
import { CheckBroken, CheckFailure, evidence } from '../src/checks/outcome.js';
import type { CheckSession } from '../src/checks/session.js';
import { clockSample, clockVerdicts, nameExpectations, nameProblems, namesToResolve, parseEpochMs, parseResolved, resolveScript, signedSeconds, type ClockSample } from '../src/checks/host-wiring.js';

const { check, eachCompute, ctx } = checkSuite();
const roles = Object.keys(ctx.inventory.hosts);

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

// Every host resolves every role's name (and host name) first to the address the inventory gives it.
const names = nameExpectations(ctx.inventory);
for (const role of roles) {
  check('host.names', role, async (s) => {
    const r = await s.run(role, resolveScript(namesToResolve(names)), 20_000);
    const resolved = parseResolved(r.stdout);
    if (resolved.size === 0) throw new CheckBroken(`cannot resolve names on ${role} (getent printed nothing)`, [s.commandEvidence(r)]);
    const problems = nameProblems(resolved, names);
    if (problems.length > 0) {
      throw new CheckFailure(`on ${role}, every host name resolving to its inventory address (${names.map((n) => `${n.name} ${n.address}`).join(', ')})`, problems.join('; '), [s.commandEvidence(r)]);
    }
  });
}

// One reading per host, all hosts at once, shared by the run's host.clock checks: the smallest round trip of three
// `date +%s.%N` (after one call that opens the connection) bounds the error.
const surveys = new WeakMap<CheckSession, Promise<Map<string, ClockSample | Error>>>();
function survey(s: CheckSession): Promise<Map<string, ClockSample | Error>> {
  let p = surveys.get(s);
  if (!p) {
    p = Promise.all(
      roles.map(async (role): Promise<[string, ClockSample | Error]> => {
        try {
          await s.run(role, 'true', 15_000);
          let best: ClockSample | undefined;
          for (let i = 0; i < 3; i++) {
            const t0 = Date.now();
            const r = await s.run(role, 'date +%s.%N', 15_000);
            const t1 = Date.now();
            const remote = parseEpochMs(r.stdout);
            if (remote === undefined) return [role, new Error(`date +%s.%N printed "${r.stdout.trim().slice(0, 60)}"`)];
            const x = clockSample(role, remote, t0, t1);
            if (!best || x.uncertaintyMs < best.uncertaintyMs) best = x;
          }
          return [role, best!];
        } catch (err) {
          return [role, err instanceof Error ? err : new Error(String(err))];
        }
      }),
    ).then((entries) => new Map(entries));
    surveys.set(s, p);
  }
  return p;
}

const toleranceMs = Number(ctx.inventory.vars.CLOCK_TOLERANCE_S ?? 3) * 1000;
for (const role of roles) {
  check('host.clock', role, async (s, t) => {
    const all = await survey(s);
    const mine = all.get(role);
    if (mine instanceof Error) throw mine instanceof CheckBroken ? mine : new CheckBroken(`cannot read the clock of ${role} (${mine.message})`);
    const samples = [...all.values()].filter((x): x is ClockSample => !(x instanceof Error));
    const v = clockVerdicts(samples, toleranceMs);
    const table = samples.map((x) => `${x.role} ${signedSeconds(x.offsetMs)} (±${(x.uncertaintyMs / 1000).toFixed(3)} s)`).join(', ');
    t.attach(evidence.text('clock offsets from this machine', `tolerance ${toleranceMs / 1000} s\n${samples.map((x) => `${x.role}\t${signedSeconds(x.offsetMs)}\t±${(x.uncertaintyMs / 1000).toFixed(3)} s`).join('\n')}`));
    const me = v.byRole.get(role)!;
    if (!me.ok) {
      const ref = v.reference === 'local' ? "this machine's clock (and so the other hosts')" : `the other hosts' clocks (this machine's is ${signedSeconds(-v.referenceMs)} off theirs)`;
      throw new CheckFailure(
        `the clock of ${role} within ${toleranceMs / 1000} s of ${ref}`,
        `${signedSeconds(me.deltaMs)} (±${(me.uncertaintyMs / 1000).toFixed(3)} s; offsets from this machine: ${table}; timedatectl timesync-status on ${role})`,
      );
    }
  });
}
