// The secret values of an inventory: those it marks secret, and any variable whose name says it is one.
import type { Inventory } from '../inventory/types.js';
import { Redactor } from '../redact.js';

const SECRET_NAME = /(PASS|PASSWORD|SECRET|TOKEN|_KEY)$/i;

// Collect every value that must never appear in a message, evidence or report.
export function inventorySecrets(inv: Inventory): string[] {
  const names = new Set([...inv.secretNames, ...Object.keys(inv.vars).filter((k) => SECRET_NAME.test(k))]);
  return [...names].map((n) => inv.vars[n]).filter((v): v is string => typeof v === 'string' && v.length > 0);
}

/** A redactor for one inventory. */
export function redactorFor(inv: Inventory): Redactor {
  return new Redactor(inventorySecrets(inv));
}
