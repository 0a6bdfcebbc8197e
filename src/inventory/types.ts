// The inventory: which real machine plays each role of the tutorial, and the variables.

export interface HostSpec {
  /** Role name as used in the tutorial (`db-node`). */
  role: string;
  /** Address or DNS name to connect to. */
  address: string;
  port: number;
  user: string;
  /** Private key file (absolute after loading). */
  keyFile?: string;
  /** Use ssh-agent (true → $SSH_AUTH_SOCK, or a socket path). */
  agent?: string;
  /** Role or `user@host:port` to jump through. */
  jump?: string;
  /** Hostname the machine calls itself (for checks like `compute.<host>` queues); defaults to the role. */
  hostname: string;
}

export interface Inventory {
  /** The file it was read from (for error messages); `<lab>` etc. for generated ones. */
  file: string;
  /** A short name for reports (`lab`, a student's name…). */
  name: string;
  hosts: Record<string, HostSpec>;
  /** Variables for `{{ NAME }}` (vars, then the secrets file, then `STACKCHECK_VAR_<NAME>` environment). */
  vars: Record<string, string>;
  /** The tutorial's alternatives this deployment takes (`variants: { storage: ceph }`). */
  variants?: Record<string, string>;
  /** Names of variables whose values are secret (from the secrets file, or listed in `secret:`). */
  secretNames: string[];
  /** known_hosts file used to verify host keys. */
  knownHosts: string;
  /** Accept and record unknown host keys on first use (never silently: it is logged). */
  acceptNewHostKeys: boolean;
  /** Connect timeout in ms. */
  connectTimeoutMs: number;
  /**
   * `api`: OpenStack API credentials only (an audit from clouds.yaml): no host is contacted — no SSH, MariaDB or
   * RabbitMQ connection is even attempted.
   */
  access?: 'api';
}
