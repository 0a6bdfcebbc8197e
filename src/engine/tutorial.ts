// The tutorial a run, an audit, a check or a grade works with: parsed, its alternatives chosen for the deployment
// (`--variant` first, then the inventory's `variants:`, then the tutorial's defaults) and its declarations validated —
// every input error before anything is touched (exit code 2).
import type { Inventory } from '../inventory/types.js';
import { validateStageDeclarations } from '../checks/declared.js';
import { parseTutorial } from '../runner/parse.js';
import type { Tutorial } from '../runner/types.js';
import { selectVariants, variantChoices } from '../runner/variants.js';

/** The parsed tutorial with the deployment's alternatives taken, its declarations checked. */
export function tutorialFor(parsed: Tutorial, inventory: Pick<Inventory, 'file' | 'variants'> | undefined, variants?: readonly string[], label?: string): Tutorial {
  const t = selectVariants(parsed, variantChoices(inventory, variants, label));
  validateStageDeclarations(t);
  return t;
}

/** Read a tutorial and take the deployment's alternatives. */
export async function readTutorialFor(path: string, inventory: Pick<Inventory, 'file' | 'variants'> | undefined, variants?: readonly string[]): Promise<Tutorial> {
  return tutorialFor(await parseTutorial(path), inventory, variants);
}
