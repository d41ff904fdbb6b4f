// Which values a mule message can carry (src/shared/mule-message-types.ts): the culprit
// named after msgpackr refused a message.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { findUnencodable, unencodableMessage } from '../src/shared/mule-message-types.js';

test('plain data has no culprit', () => {
  assert.is(findUnencodable({ a: [1, 'x', null, undefined, new Date(0), new Uint8Array(2), 5n, new Map([[1, 2]]), new Set([3])] }), undefined);
  const shared = { x: 1 };
  assert.is(findUnencodable({ a: shared, b: shared }), undefined, 'a shared (not cyclic) reference is fine');
});

test('functions, symbols, cycles and big bigints are named with their path', () => {
  assert.equal(findUnencodable(function job() {}), { path: 'message', type: 'function job' });
  assert.equal(findUnencodable({ a: [0, Symbol('s')] }), { path: 'message.a[1]', type: 'symbol Symbol(s)' });
  const c: Record<string, unknown> = { n: { m: {} } };
  (c.n as Record<string, Record<string, unknown>>).m.back = c;
  assert.equal(findUnencodable(c), { path: 'message.n.m.back', type: 'cyclic object (a reference back to an enclosing object)' });
  assert.equal(findUnencodable({ big: 2n ** 64n }), { path: 'message.big', type: 'bigint beyond 64 bits' });
  assert.equal(findUnencodable(new Map([[Symbol('k'), 1]])), { path: 'message key', type: 'symbol Symbol(k)' });
});

test('the error is coded, names the caller and echoes the value', () => {
  const e = unencodableMessage({ job: 1, done: () => 1 }, 'farmMsg()', new Error('x'));
  assert.is(e.code, 'UWSGI_ERR_MULE_MSG_TYPE');
  assert.match(e.message, /^farmMsg\(\): message "\{\\"job\\":1\}" cannot travel to a mule: message\.done is a function done/);
});

test.run();
