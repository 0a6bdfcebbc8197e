// What a check run hands to the vitest check files through `provide`/`inject`: plain, serializable data
// (the inventory, the selection, the mode, the run id) — never globals, never live connections.
import type { Inventory } from '../inventory/types.js';

export interface CheckContext {
  /** Identifies the run; the worker keeps one set of clients per run id. */
  runId: string;
  inventory: Inventory;
  /** Check ids selected for this run (the files still declare every check; unselected ones are skipped). */
  selected: string[];
  /** Run mutating checks (create a server, upload an image…); they clean up even when they fail. */
  functional: boolean;
  /** The tutorial stage just finished, when run by `stackcheck run` (recorded in results and reports). */
  stage?: string;
  /**
   * Install keys of what the deployment holds (the `<!-- installs: … -->` of the stages run so far): only these
   * services are expected. Absent: a complete deployment.
   */
  installed?: string[];
  /** How many check files the run has (the last one to finish closes the shared clients). */
  files: number;
  /** allure-vitest is set up: label and attach in Allure too. */
  allure: boolean;
}

export const CONTEXT_KEY = 'stackcheck';

declare module 'vitest' {
  export interface ProvidedContext {
    stackcheck: CheckContext;
  }
}
