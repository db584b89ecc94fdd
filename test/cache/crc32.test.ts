import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32, crc32Table } from '../../src/cache/crc32.js';
import { rng } from '../helpers/rng.js';

describe('crc32', () => {
  it('gives the standard check value of "123456789" (0xCBF43926), and 0 for nothing', () => {
    const check = Buffer.from('123456789');
    expect(crc32(check)).toBe(0xcbf43926);
    expect(crc32Table(check)).toBe(0xcbf43926);
    expect(crc32Table(new Uint8Array(0))).toBe(0);
  });

  it('the table-driven fallback equals zlib on random buffers of every length up to 300', () => {
    const rnd = rng(7);
    for (let n = 0; n <= 300; n++) {
      const b = Buffer.alloc(n);
      for (let i = 0; i < n; i++) b[i] = Math.floor(rnd() * 256);
      expect(crc32Table(b)).toBe(zlibCrc32(b));
    }
  });

  it('changes when any one bit of a buffer flips', () => {
    const b = Buffer.from('PERFMON-INDEX body: {"dir":"/srv/logs"}');
    const base = crc32(b);
    for (let i = 0; i < b.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        b[i]! ^= 1 << bit;
        expect(crc32(b)).not.toBe(base);
        b[i]! ^= 1 << bit;
      }
    }
  });

  it('continues from the CRC of the bytes before: over parts as over the whole', () => {
    const whole = Buffer.from('a cache entry: header, head and minutes');
    for (const cut of [0, 1, 7, 20, whole.length]) {
      const a = whole.subarray(0, cut);
      const b = whole.subarray(cut);
      expect(crc32(b, crc32(a))).toBe(crc32(whole));
      expect(crc32Table(b, crc32Table(a))).toBe(crc32Table(whole));
    }
  });
});
