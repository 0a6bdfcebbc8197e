// QEMU on each compute host (over SSH): exactly one qemu-system process per ACTIVE instance Nova places there,
// matched by instance UUID, none orphaned, `virsh list` agreeing; libvirt's virt_type is the tutorial's (qemu).
import { checkSuite } from '../src/checks/define.js';
import { CheckBroken, CheckFailure, evidence } from '../src/checks/outcome.js';
import { adminClient, need } from '../src/checks/api.js';
import { serviceHost } from '../src/checks/expect.js';
import { qemuUuids, virshUuids } from '../src/checks/parse.js';
import { shQuote } from '../src/ssh/exec.js';
import { listServers } from '../src/openstack/nova.js';

const { eachCompute, ctx } = checkSuite();

eachCompute('qemu.instances', (compute) => async (s, t) => {
  t.logOnFailure(compute, 'nova-compute');
  const { client } = await adminClient(s);
  const servers = await need('listing servers on the host', listServers(client, serviceHost(ctx.inventory, compute)));
  // Servers the functional checks boot and delete meanwhile (named stackcheck-…) come and go while this
  // check looks: only the deployment's own instances are held to one qemu process each.
  const active = servers.filter((x) => x.status === 'ACTIVE' && !x.name?.startsWith('stackcheck-')).map((x) => x.id);
  const known = new Set(servers.map((x) => x.id));
  const r = await s.run(compute, 'ps -eo pid=,args= | grep -E "[q]emu-system-" || true; echo "--- virsh"; virsh -c qemu:///system list --uuid 2>&1 || true');
  const [psOut = '', virshOut = ''] = r.stdout.split('--- virsh');
  const procs = qemuUuids(psOut);
  const virsh = virshUuids(virshOut);
  const ev = [s.commandEvidence(r), evidence.json('Nova servers on the host', servers.map((x) => ({ id: x.id, status: x.status })))];
  const problems: string[] = [];
  for (const id of active) {
    const n = procs.filter((p) => p === id).length;
    if (n !== 1) problems.push(`instance ${id} (ACTIVE) has ${n} qemu processes`);
    if (!virsh.includes(id)) problems.push(`virsh does not list ${id} as running`);
  }
  const orphans = procs.filter((p) => !known.has(p));
  if (orphans.length > 0) problems.push(`orphaned qemu process${orphans.length > 1 ? 'es' : ''} for ${orphans.join(', ')} (unknown to Nova)`);
  if (problems.length > 0) {
    throw new CheckFailure(`one qemu process per ACTIVE instance on ${compute} (${active.length} ACTIVE), none orphaned`, problems.join('; '), ev);
  }
});

eachCompute('qemu.virt-type', (compute) => async (s) => {
  const want = ctx.inventory.vars.VIRT_TYPE ?? 'qemu';
  // Later files override earlier ones, as nova-compute reads them (nova.conf, then nova-compute.conf).
  const py = `import configparser, os
v = None
if not os.path.exists("/etc/nova/nova.conf"):
    print("UNREADABLE /etc/nova/nova.conf missing")
for f in ("/etc/nova/nova.conf", "/etc/nova/nova-compute.conf"):
    c = configparser.RawConfigParser(strict=False, interpolation=None)
    try:
        c.read(f)
    except Exception as e:
        print("UNREADABLE", f, e); continue
    if c.has_option("libvirt", "virt_type"):
        v = (c.get("libvirt", "virt_type"), f)
print("VIRT_TYPE", v[0] if v else "unset", v[1] if v else "-")`;
  const r = await s.run(compute, `python3 -c ${shQuote(py)}`);
  const m = /VIRT_TYPE (\S+) (\S+)/.exec(r.stdout);
  const found = m?.[1] ?? 'unknown';
  if (found === 'unset' && /UNREADABLE|No such file/.test(r.stdout + r.stderr)) throw new CheckBroken(`cannot read /etc/nova/nova.conf on ${compute}`);
  if (found !== want) {
    throw new CheckFailure(`[libvirt] virt_type = ${want} on ${compute}`, found === 'unset' ? 'virt_type not set (defaults to kvm)' : `virt_type = ${found} in ${m?.[2] ?? '?'}`, [s.commandEvidence(r)]);
  }
});
