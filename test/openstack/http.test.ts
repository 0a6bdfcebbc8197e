import { describe, expect, test } from 'vitest';
import { apiErrorMessage, describeNetworkError, joinUrl, OpenStackHttpError } from '../../src/openstack/http.js';
import { heartbeatAge } from '../../src/openstack/nova.js';
import { ipInRange } from '../../src/openstack/neutron.js';

describe('HTTP errors in words', () => {
  test('the human sentence is pulled out of each service\'s error shape', () => {
    expect(apiErrorMessage('{"error":{"code":401,"title":"Unauthorized","message":"The request you have made requires authentication."}}')).toBe(
      'The request you have made requires authentication.',
    );
    expect(apiErrorMessage('{"itemNotFound":{"code":404,"message":"Flavor m1.tiny could not be found."}}')).toBe('Flavor m1.tiny could not be found.');
    expect(apiErrorMessage('{"NeutronError":{"type":"NetworkNotFound","message":"Network x could not be found.","detail":""}}')).toBe('Network x could not be found.');
    expect(apiErrorMessage('<html><body><h1>503 Service Unavailable</h1></body></html>')).toBe('503 Service Unavailable');
  });

  test('network errors become sentences', () => {
    expect(describeNetworkError('ECONNREFUSED', 'x')).toEqual({ kind: 'unreachable', text: 'connection refused (nothing listens on that port)' });
    expect(describeNetworkError('ECONNABORTED', 'x').kind).toBe('timeout');
  });

  test('the short form of a status error: status and reason', () => {
    const e = new OpenStackHttpError('status', 'GET', 'http://x/v2.1/flavors', 503, '{"message":"Service Unavailable"}', 'HTTP 503');
    expect(e.short).toBe('HTTP 503 (Service Unavailable)');
  });

  test('URLs join without doubled or lost slashes', () => {
    expect(joinUrl('http://a:8774/v2.1/', '/flavors')).toBe('http://a:8774/v2.1/flavors');
    expect(joinUrl('http://a:8774/v2.1', 'flavors')).toBe('http://a:8774/v2.1/flavors');
  });
});

describe('small helpers', () => {
  test('heartbeat age in words (Nova timestamps have no zone: UTC)', () => {
    const now = Date.parse('2026-11-25T12:00:00Z');
    expect(heartbeatAge('2026-11-25T11:57:00.000000', now)).toBe('3 min ago');
    expect(heartbeatAge('2026-11-25T11:59:30Z', now)).toBe('30 s ago');
    expect(heartbeatAge(null, now)).toBe('never');
  });

  test('floating address ranges', () => {
    expect(ipInRange('10.99.1.50', '10.99.1.10', '10.99.1.100')).toBe(true);
    expect(ipInRange('10.99.2.5', '10.99.1.10', '10.99.1.100')).toBe(false);
  });
});
