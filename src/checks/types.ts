// The boundary types of conformance checks: what a check is (metadata) and what it found (result).

export type Severity = 'blocker' | 'critical' | 'normal' | 'minor';

/** Static description of a check; `id` is what tutorials reference in `<!-- checks: … -->`. */
export interface CheckMeta {
  /** Stable id, `<component>.<name>`, e.g. `keystone.catalog`, `nova.compute-up`. */
  id: string;
  component: 'mysql' | 'rabbitmq' | 'keystone' | 'glance' | 'nova' | 'placement' | 'neutron' | 'cinder' | 'qemu' | 'horizon' | 'host' | 'dataplane';
  title: string;
  severity: Severity;
  /** Points in a grade. */
  weight: number;
  /** True when the check creates/changes things on the target (run only with --functional; cleans up). */
  mutating: boolean;
  /** Install keys (`<!-- installs: … -->`) without which there is nothing to check: the first is the remedy's. */
  needs: string[];
  /** How to fix it: the tutorial section (stage id) and a sentence. */
  remedy: { stage: string; text: string };
}

export type CheckStatus = 'passed' | 'failed' | 'broken' | 'skipped';

/** Evidence attached to a result (already redacted). */
export interface Evidence {
  name: string;
  contentType: 'text/plain' | 'application/json';
  body: string;
}

/** One check on one host (the host is part of the identity: `id` + `host`). */
export interface CheckResult {
  id: string;
  /** Role or host the result is about (`compute-1`), or `deployment` for deployment-wide checks. */
  host: string;
  component: CheckMeta['component'];
  title: string;
  severity: Severity;
  weight: number;
  status: CheckStatus;
  /** One line a student understands: expected vs found. */
  message: string;
  expected?: string;
  found?: string;
  /** Where to fix it: the stage (the tutorial's stage id once the tutorial is known) and its heading. */
  remedy: CheckMeta['remedy'] & { stageTitle?: string };
  evidence: Evidence[];
  durationMs: number;
  /** Stage after which it ran, when run by `stackcheck run`. */
  stage?: string;
}
