// Checks shown failing by a real fault in a test of its own rather than by a catalogue fault (faults/catalogue.yaml):
// the fault needs more than shell actions (a server booted, then its qemu killed within Nova's 15 s window), runs on
// the integration tier's own MariaDB/RabbitMQ/Keystone/Glance hosts, or is a variant's (the Ceph key). The coverage
// test (test/faults/catalogue.test.ts) verifies that each named test exists in its file and names the check, and
// docs/checks.md lists them beside the catalogue's faults.
export interface Proof {
  file: string;
  /** The test's title (or a unique part of it). */
  test: string;
}

const BASIC = 'test/checks/basic-services.it.test.ts';
const GLANCE = 'test/checks/glance.it.test.ts';
const FAULTS = 'test/tutorial/deployed/checks-faults.test.ts';
const DATAPLANE = 'test/tutorial/deployed/dataplane.test.ts';

export const PROVEN_ELSEWHERE: Readonly<Record<string, readonly Proof[]>> = {
  'mysql.databases': [{ file: BASIC, test: 'a missing database: mysql.databases names it' }],
  'mysql.users': [{ file: BASIC, test: 'a dropped grant: mysql.users fails naming the user and the database' }],
  'keystone.api': [{ file: BASIC, test: 'Keystone stopped: keystone.api fails with its log attached' }],
  'keystone.glance-user': [{ file: BASIC, test: 'the admin role removed from a service user: keystone.glance-user says so' }],
  'keystone.nova-user': [{ file: FAULTS, test: 'the admin role removed from nova: keystone.nova-user says so' }],
  'keystone.catalog': [{ file: BASIC, test: 'a missing endpoint: keystone.catalog names the service and interface' }],
  'keystone.config': [{ file: BASIC, test: 'a wrong database password in keystone.conf: keystone.config names the setting and the variable' }],
  'glance.config': [{ file: FAULTS, test: 'a wrong database password in glance-api.conf: glance.config names it' }],
  'glance.images': [{ file: GLANCE, test: 'the image the tutorial registers is gone: glance.images names it' }],
  'neutron.config': [{ file: FAULTS, test: 'a wrong RabbitMQ host in neutron.conf: neutron.config names the host it points at' }],
  'cinder.config': [{ file: FAULTS, test: 'a wrong key for Cinder' }],
  'neutron.floating-pool': [{ file: FAULTS, test: 'the floating pool deleted: neutron.floating-pool says there is none' }],
  'neutron.bridge-mapping': [{ file: FAULTS, test: 'the external network mapped to the wrong interface: neutron.bridge-mapping names file and running agent' }],
  'dataplane.end-to-end': [{ file: DATAPLANE, test: 'the provider interface down on the network node: the floating IP is cut from outside, the failure names the bridge mapping' }],
  'qemu.instances': [{ file: FAULTS, test: 'a killed qemu process: qemu.instances names the instance without one' }],
  'host.machine-id': [{ file: FAULTS, test: 'an empty /etc/machine-id on the compute host: host.machine-id fails' }],
  'host.instances-space': [{ file: FAULTS, test: 'a full instances file system: host.instances-space fails naming the free space' }],
};
