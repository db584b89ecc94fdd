import { describe, expect, it } from 'vitest';
import { checksum, checksumText, jsWordLoop, wasmWordLoop } from '../../src/cache/checksum.js';
import { rng } from '../helpers/rng.js';

describe('checksum', () => {
  it('changes with every one-byte change, at every position of buffers of every length up to 40', () => {
    const rand = rng(5);
    for (let n = 0; n <= 40; n++) {
      const b = new Uint8Array(n).map(() => Math.floor(rand() * 256));
      const h = checksum(b);
      for (let i = 0; i < n; i++) {
        for (const flip of [1, 0x80, 0xff]) {
          const c = b.slice();
          c[i]! ^= flip;
          expect(checksum(c), `length ${n}, byte ${i}, xor ${flip}`).not.toBe(h);
        }
      }
      // Zero bytes added or taken away at the end change it too (the length counts).
      expect(checksum(new Uint8Array([...b, 0]))).not.toBe(h);
      if (n > 0) expect(checksum(b.subarray(0, n - 1))).not.toBe(h);
    }
  });

  it('is the same for the same bytes wherever they lie in memory, and 8 hex digits as text', () => {
    const rand = rng(9);
    const b = new Uint8Array(1000).map(() => Math.floor(rand() * 256));
    const big = new Uint8Array(1003);
    for (let off = 0; off < 3; off++) {
      big.set(b, off);
      expect(checksum(big.subarray(off, off + 1000))).toBe(checksum(b));
    }
    expect(checksumText(b)).toMatch(/^[0-9a-f]{8}$/);
    expect(parseInt(checksumText(b), 16)).toBe(checksum(b));
  });

  it('tells apart two changes that cancel in a plain multiply-xor hash: the top bit of two words', () => {
    const b = new Uint8Array(64);
    const c = b.slice();
    c[3] = 0x80;
    c[11] = 0x80;
    expect(checksum(c)).not.toBe(checksum(b));
  });

  it('gives the values it gave before its loop ran as WebAssembly: saved entries stay valid', () => {
    // Computed by the all-JavaScript checksum of the previous release.
    const b = new Uint8Array(1003).map((_, i) => (i * 131 + 7) & 255);
    expect(checksumText(b)).toBe('0cb95031');
    expect(checksumText(b.subarray(1, 1002))).toBe('629815a7');
    expect(checksumText(new Uint8Array(0))).toBe('0a1d301a');
  });

  it('runs its word loop as WebAssembly here, and that loop gives what the JavaScript one does', () => {
    const wasm = wasmWordLoop();
    expect(wasm).toBeDefined();
    const rand = rng(17);
    const chunk = 256 * 1024;
    // Short and long, aligned and not, and across the 256 KiB pieces the module's memory takes.
    const sizes = [0, 1, 4, 5, 63, 64, 1000, 4099, chunk - 4, chunk, chunk + 4, 3 * chunk + 12];
    for (const size of sizes) {
      for (const offset of [0, 1, 3, 4]) {
        const big = new Uint8Array(size + offset).map(() => Math.floor(rand() * 256));
        const b = big.subarray(offset);
        const n = b.length >> 2;
        const h = Math.floor(rand() * 2 ** 32) | 0;
        expect(wasm!(b, n, h), `${size} bytes at offset ${offset}`).toBe(jsWordLoop(b, n, h));
      }
    }
  });
});
