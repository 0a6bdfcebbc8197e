import { describe, expect, test } from 'vitest';
import { inventorySecrets, redactorFor } from '../../src/checks/secrets.js';
import { inventory } from './fixtures-inventory.js';

describe('inventory secrets', () => {
  test('named secrets and *_PASS / *_DBPASS variables are secret; addresses are not', () => {
    const s = inventorySecrets(inventory());
    expect(s.sort()).toEqual(['Adm1nSecret', 'n0vaDbSecret']);
  });

  test('a redactor for the inventory masks them in any text', () => {
    const r = redactorFor(inventory());
    const out = r.redact('connection = mysql+pymysql://nova:n0vaDbSecret@192.168.1.11/nova admin Adm1nSecret');
    expect(out).not.toContain('n0vaDbSecret');
    expect(out).not.toContain('Adm1nSecret');
    expect(out).toContain('192.168.1.11');
  });
});
