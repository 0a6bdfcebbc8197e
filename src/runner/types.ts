// The boundary types of the document → plan → execution → results flow.
import type { Location } from '../error.js';

/** Common to every executable step. `host` is a role as written in the tutorial (e.g. `db-node`). */
export interface StepBase {
  /** Stable id: `<stage-id>/<n>` (1-based index within the stage). */
  id: string;
  /** Id of the stage the step belongs to. */
  stage: string;
  /** Role the step runs on, as written in the tutorial. */
  host: string;
  /** Where the step starts in the source (1-based line). */
  loc: Location;
  /** Run as root (`#` prompt, or default for annotated fences) or as the SSH user (`$` prompt). */
  root: boolean;
  /** Explicit remote user (`user=` option); runs via `sudo -n -u USER`. */
  user?: string;
  /** Per-step timeout in ms (`timeout=` option, e.g. `timeout=10m`). */
  timeoutMs?: number;
  /** Exit codes that count as success (`expect-exit=0,1`). Default [0]. */
  expectExit: number[];
  /** Extra attempts after a failure (`retries=`), with `retryDelayMs` between them. */
  retries: number;
  retryDelayMs?: number;
  /** 1-based source line of the first line of `command` / `content` (the line after the fence for annotated blocks). */
  bodyLine?: number;
}

/** A shell command (one prompt line with its continuations / here-doc, or a whole `sh host=` block). */
export interface ShellStep extends StepBase {
  kind: 'shell';
  command: string;
  /** Lines typed at an interactive program's own prompt (e.g. `mysql>`), fed on stdin. */
  input?: string;
  /** 1-based source line of each line of `input` (they may be separated by output lines). */
  inputLines?: number[];
  /** Expected output shown in the tutorial, kept for display only. */
  output?: string;
}

/** A config-file edit. */
export interface FileStep extends StepBase {
  kind: 'file';
  path: string;
  /** `ini`: merge sections/keys into the INI file; `replace`: write the content; `append`: add it if absent. */
  mode: 'ini' | 'replace' | 'append';
  content: string;
  /** Octal mode for a newly created file (`chmod=0640`); existing files keep theirs. */
  fileMode?: string;
  /** `owner=root:keystone` for a newly created file; existing files keep theirs. */
  owner?: string;
}

export type Step = ShellStep | FileStep;

export interface Stage {
  /** Stable slug of the `##` heading. */
  id: string;
  title: string;
  /** Check ids declared with `<!-- checks: a.b, c.d -->`. */
  checks: string[];
  /**
   * `<!-- after: a, b -->`: the earlier stages this one needs. Without it a stage needs every stage before it;
   * with it, the runner may run it beside other stages (`run --jobs N`).
   */
  after?: { ids: string[]; line: number };
  /**
   * `<!-- installs: keystone, glance -->`: what this stage installs or configures (keys of `INSTALL_KEYS`), which
   * decides what the checks expect after it. Declared, never guessed from the heading's words.
   */
  installs?: { keys: string[]; line: number };
  /**
   * `<!-- variant: storage=ceph -->`: the stage belongs to one alternative of a choice (the inventory's `variants:`
   * or `--variant` chooses; `(default)` marks the one taken when nothing does). Stages of an unchosen alternative are
   * left out of the plan, with their checks.
   */
  variant?: { name: string; value: string; line: number; isDefault?: boolean };
  steps: Step[];
  loc: Location;
}

/** One choice between a tutorial's alternatives: `storage=ceph`, and where it came from. */
export interface VariantChoice {
  name: string;
  value: string;
  /** `--variant`, `inventory lab.yaml (variants.storage)`, `the tutorial's default (10-…md:3)`. */
  from: string;
}

export interface Tutorial {
  /** File or folder the tutorial was read from. */
  source: string;
  /** The `#` heading of the first file, if any. */
  title?: string;
  stages: Stage[];
  /** After `selectVariants`: the alternative taken of each choice, and why. */
  variants?: VariantChoice[];
  /** Things that parse but look like mistakes (a ```sh block with no host), for `plan` to show. */
  warnings?: Array<{ loc: Location; message: string }>;
}

/**
 * A tutorial bound to an inventory: every `{{ VAR }}` filled, every role mapped to a host.
 * Steps keep their role in `host`; `inventory.hosts[step.host]` is the machine.
 */
export interface Plan {
  tutorial: Tutorial;
  inventory: import('../inventory/types.js').Inventory;
  /** Secret values (for redaction); never printed. */
  secrets: string[];
}
