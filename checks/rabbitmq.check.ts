// RabbitMQ: the tutorial's user logs in on its vhost with configure/write/read permissions on everything; every
// host whose services use the broker reaches it; every running service's RPC queue exists and has a consumer (a
// queue without one means that service is down — the message names the service).
import { checkSuite } from '../src/checks/define.js';
import { CheckBroken, CheckFailure } from '../src/checks/outcome.js';
import { roleAddress, serviceHost } from '../src/checks/expect.js';
import type { CheckSession } from '../src/checks/session.js';
import { describeAmqpError, type AmqpProbe } from '../src/mq/rabbitmq.js';
import { parsePermissions, permissionProblems, permissionsScript } from '../src/checks/rabbitmq-permissions.js';
import { messageQueueClients, parseTcpProbe, tcpProbeScript } from '../src/checks/host-wiring.js';

const { check, expected, ctx } = checkSuite();
const mq = expected.mqRole;
const installed = new Set(expected.services.map((s) => s.name));
const role = (name: string): string => expected.services.find((s) => s.name === name)?.role ?? name;
const rabbitLog = '/var/log/rabbitmq/rabbit@$(hostname -s).log';

// The run's AMQP connection; a login failure makes the queue checks broken (rabbitmq.user reports it).
async function probe(s: CheckSession): Promise<AmqpProbe> {
  const p = s.amqp();
  try {
    await p.connection();
  } catch (err) {
    throw new CheckBroken(`cannot log in to RabbitMQ on ${mq} (${describeAmqpError(err).text})`);
  }
  return p;
}

check('rabbitmq.user', mq, async (s, t) => {
  t.logOnFailure(mq, 'rabbitmq-server', rabbitLog);
  const r = expected.rabbit;
  try {
    await s.amqp().connection();
  } catch (err) {
    // (a password the inventory does not give cannot be checked: that is not RabbitMQ refusing it)
    if (err instanceof CheckBroken) throw err;
    const e = describeAmqpError(err);
    throw new CheckFailure(`user ${r.user} logged in to RabbitMQ on ${mq} (vhost ${r.vhost}) with RABBIT_PASS`, e.text);
  }
});

// The user's permissions on its vhost, as rabbitmqctl on the broker's host reports them.
check('rabbitmq.permissions', mq, async (s, t) => {
  t.logOnFailure(mq, 'rabbitmq-server', rabbitLog);
  const r = expected.rabbit;
  const out = await s.run(mq, permissionsScript(r.user), 60_000);
  const p = parsePermissions(out.stdout);
  const want = `user ${r.user} with configure, write and read permissions on everything (".*") on vhost ${r.vhost} of RabbitMQ on ${mq}`;
  if (p.kind === 'error') throw new CheckBroken(`rabbitmqctl list_user_permissions failed on ${mq} (${p.text}; see rabbitmq.user)`, [s.commandEvidence(out)]);
  if (p.kind === 'no-user') throw new CheckFailure(want, `no user ${r.user} (users: ${p.users.join(', ') || 'none'})`, [s.commandEvidence(out)]);
  const problems = permissionProblems(p.permissions, r.vhost);
  if (problems.length > 0) throw new CheckFailure(want, problems.join('; '), [s.commandEvidence(out)]);
});

// Each host whose services use RabbitMQ opens a TCP connection to its AMQP port (bounded; nothing is sent).
for (const client of messageQueueClients(expected, ctx.inventory)) {
  check('rabbitmq.reachable', client.role, async (s) => {
    const host = roleAddress(s.inventory, mq);
    if (!host) throw new CheckBroken(`the inventory has no host for the message-queue role ${mq}`);
    const port = Number(s.inventory.vars.RABBIT_PORT ?? 5672);
    const r = await s.run(client.role, tcpProbeScript(host, port, false), 20_000);
    const p = parseTcpProbe(r.stdout);
    if (!p.connected) {
      throw new CheckFailure(
        `${client.role} (${client.services.join(', ')}) reaching RabbitMQ on ${host}:${port}`,
        `${p.error ?? 'no connection'} after ${p.ms} ms (systemctl status rabbitmq-server on ${mq}; a firewall between the hosts?)`,
        [s.commandEvidence(r)],
      );
    }
  });
}

interface QueueSpec {
  id: string;
  /** Role of the host running the consumer. */
  host: string;
  service: string;
  queue: string;
  /** Service unit on that host, for the log tail. */
  unit: string;
  conf: string;
}

const queues: QueueSpec[] = [];
if (installed.has('nova')) {
  queues.push(
    { id: 'rabbitmq.nova-conductor', host: role('nova'), service: 'nova-conductor', queue: 'conductor', unit: 'nova-conductor', conf: '/etc/nova/nova.conf' },
    { id: 'rabbitmq.nova-scheduler', host: role('nova'), service: 'nova-scheduler', queue: 'scheduler', unit: 'nova-scheduler', conf: '/etc/nova/nova.conf' },
  );
  for (const c of expected.computeInstalled ? expected.computeRoles : []) {
    queues.push({ id: 'rabbitmq.nova-compute', host: c, service: 'nova-compute', queue: `compute.${serviceHost(ctx.inventory, c)}`, unit: 'nova-compute', conf: '/etc/nova/nova.conf' });
  }
}
if (installed.has('neutron')) {
  const n = role('neutron');
  const h = serviceHost(ctx.inventory, n);
  queues.push(
    { id: 'rabbitmq.neutron-server', host: n, service: 'neutron-rpc-server', queue: 'q-plugin', unit: 'neutron-rpc-server', conf: '/etc/neutron/neutron.conf' },
    { id: 'rabbitmq.neutron-dhcp-agent', host: n, service: 'neutron-dhcp-agent', queue: `dhcp_agent.${h}`, unit: 'neutron-dhcp-agent', conf: '/etc/neutron/neutron.conf' },
    { id: 'rabbitmq.neutron-l3-agent', host: n, service: 'neutron-l3-agent', queue: `l3_agent.${h}`, unit: 'neutron-l3-agent', conf: '/etc/neutron/neutron.conf' },
  );
  for (const r of [n, ...expected.computeRoles]) {
    const q = `q-agent-notifier-port-update.${serviceHost(ctx.inventory, r)}`;
    queues.push({ id: 'rabbitmq.neutron-linuxbridge-agent', host: r, service: 'neutron-linuxbridge-agent', queue: q, unit: 'neutron-linuxbridge-agent', conf: '/etc/neutron/neutron.conf' });
  }
}
if (installed.has('cinder')) {
  const a = role('cinder');
  const v = expected.cinderVolumeRole;
  queues.push(
    { id: 'rabbitmq.cinder-scheduler', host: a, service: 'cinder-scheduler', queue: 'cinder-scheduler', unit: 'cinder-scheduler', conf: '/etc/cinder/cinder.conf' },
    {
      id: 'rabbitmq.cinder-volume',
      host: v,
      service: 'cinder-volume',
      // With CINDER_BACKEND the host's own queue (`cinder-volume.<host>@<backend>`); else the topic every cinder-volume consumes.
      queue: ctx.inventory.vars.CINDER_BACKEND ? `cinder-volume.${serviceHost(ctx.inventory, v)}@${ctx.inventory.vars.CINDER_BACKEND}` : 'cinder-volume',
      unit: 'cinder-volume',
      conf: '/etc/cinder/cinder.conf',
    },
  );
}

for (const q of queues) {
  check(q.id, q.host, async (s, t) => {
    t.logOnFailure(q.host, q.unit);
    const p = await probe(s);
    const st = await p.queue(q.queue);
    if (!st.exists) {
      throw new CheckFailure(
        `queue ${q.queue} consumed by ${q.service} on ${q.host}`,
        `no such queue (${q.service} never connected to RabbitMQ: is it installed and running? check transport_url in ${q.conf})`,
      );
    }
    if (st.consumers === 0) {
      throw new CheckFailure(
        `queue ${q.queue} consumed by ${q.service} on ${q.host}`,
        `0 consumers, ${st.messages} waiting message${st.messages === 1 ? '' : 's'} (${q.service} is down or cannot reach RabbitMQ: systemctl status ${q.unit}; transport_url in ${q.conf})`,
      );
    }
  });
}
