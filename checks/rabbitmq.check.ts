// RabbitMQ: the tutorial's user logs in on its vhost; every running service's RPC queue exists and has a
// consumer (a queue without one means that service is down — the message names the service).
import { checkSuite } from '../src/checks/define.js';
import { CheckBroken, CheckFailure } from '../src/checks/outcome.js';
import { serviceHost } from '../src/checks/expect.js';
import type { CheckSession } from '../src/checks/session.js';
import { describeAmqpError, type AmqpProbe } from '../src/mq/rabbitmq.js';

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
    const e = describeAmqpError(err);
    throw new CheckFailure(`user ${r.user} logged in to RabbitMQ on ${mq} (vhost ${r.vhost}) with RABBIT_PASS`, e.text);
  }
});

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
