import { describe, expect, it } from 'vitest';
import { isPerfmonError, PerfmonError } from '../src/errors.js';

describe('isPerfmonError', () => {
  it('knows perfmon errors by their brand, also from another copy of the class (another bundle)', () => {
    expect(isPerfmonError(new PerfmonError('X', 'bad value'))).toBe(true);
    // What a second bundle's PerfmonError looks like to this one: a different class, the same brand.
    const brand: unique symbol = Symbol.for('perfmon.PerfmonError') as never;
    class OtherCopy extends Error {
      readonly [brand] = true;
    }
    expect(new OtherCopy('x') instanceof PerfmonError).toBe(false);
    expect(isPerfmonError(new OtherCopy('x'))).toBe(true);
  });

  it('anything else is not one', () => {
    for (const e of [new Error('x'), null, undefined, 'PerfmonError', { name: 'PerfmonError' }, 42]) expect(isPerfmonError(e)).toBe(false);
  });
});
