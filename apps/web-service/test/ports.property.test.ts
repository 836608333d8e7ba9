/**
 * The UDP port pool for discovered cameras against arbitrary sequences of take and release
 * (fast-check, fixed seed): checked against a plain model of which ports are handed out.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { PortPool } from '../src/cameras/ports.js';
import { isServiceError } from '../src/errors.js';
import { checkProperty } from '../../../test/helpers/fuzz.js';

type Op = { kind: 'take' } | { kind: 'release'; port: number };

/** A small range (so sequences reach exhaustion), reserved ports in and around it, and operations. */
const scenario = fc
  .record({
    first: fc.integer({ min: 1024, max: 65_000 }),
    length: fc.integer({ min: 1, max: 12 }),
  })
  .chain(({ first, length }) => {
    const last = first + length - 1;
    // Releases mostly of ports in or next to the range: handed out, reserved or never taken.
    const near = fc.integer({ min: first - 2, max: last + 2 });
    return fc.record({
      first: fc.constant(first),
      last: fc.constant(last),
      reserved: fc.uniqueArray(near, { maxLength: length + 2 }),
      ops: fc.array(
        fc.oneof(
          { weight: 3, arbitrary: fc.constant<Op>({ kind: 'take' }) },
          { weight: 2, arbitrary: near.map((port): Op => ({ kind: 'release', port })) },
        ),
        { maxLength: 60 },
      ),
    });
  });

describe('PortPool (property)', () => {
  test('never hands out a port twice nor outside the range, frees on release, exhausts with WEB_ERR_PORTS_EXHAUSTED', () => {
    checkProperty(
      fc.property(scenario, ({ first, last, reserved, ops }) => {
        const pool = new PortPool({ first, last }, reserved);
        const held = new Set<number>();
        const reservedSet = new Set(reserved);
        const free = () => {
          const ports: number[] = [];
          for (let port = first; port <= last; port++) {
            if (!held.has(port) && !reservedSet.has(port)) ports.push(port);
          }
          return ports;
        };
        for (const op of ops) {
          if (op.kind === 'release') {
            pool.release(op.port);
            held.delete(op.port);
            continue;
          }
          const expected = free()[0];
          if (expected === undefined) {
            let thrown: unknown;
            try {
              pool.take();
            } catch (err) {
              thrown = err;
            }
            expect(isServiceError(thrown, 'WEB_ERR_PORTS_EXHAUSTED')).toBe(true);
            expect((thrown as Error).message).toContain(`${first}-${last}`);
          } else {
            const port = pool.take();
            expect(port).toBeGreaterThanOrEqual(first);
            expect(port).toBeLessThanOrEqual(last);
            expect(reservedSet.has(port)).toBe(false);
            expect(held.has(port)).toBe(false);
            // The lowest free port: released ones come back before higher ones are used.
            expect(port).toBe(expected);
            held.add(port);
          }
          expect(pool.inUse).toBe(held.size);
        }
      }),
      500,
    );
  });

  test('releasing a reserved port does not hand it out', () => {
    const pool = new PortPool({ first: 10, last: 11 }, [10]);
    pool.release(10);
    expect(pool.take()).toBe(11);
    expect(() => pool.take()).toThrow(/UDP_PORT_RANGE \(10-11, 2 ports\)/);
  });
});
