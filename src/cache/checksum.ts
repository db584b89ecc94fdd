/**
 * The cache's checksum: 32 bits over the bytes, four at a time. Each step is a bijection of the
 * running value for a given word and of the word for a given running value, so any change of
 * one word (or of the length) always changes the result; changes to several words go unseen only
 * by chance (about 1 in 2^32). It is plain JavaScript, so a cached run need not load node:zlib and
 * the streams it brings (≈ 4 ms) for zlib's CRC-32; it checks only what the run reads (a few
 * hundred kilobytes), where code V8 has not optimised yet costs ≈ 1 ms per 150 KB.
 */
export function checksum(bytes: Uint8Array): number {
  // Words are read through an Int32Array, which needs 4-byte alignment: copy a view that lacks it.
  const b = bytes.byteOffset % 4 === 0 ? bytes : new Uint8Array(bytes);
  const n = b.length >> 2;
  const words = new Int32Array(b.buffer, b.byteOffset, n);
  let h = 0x2f6b3a1d ^ b.length;
  for (let i = 0; i < n; i++) h = Math.imul(((h << 5) | (h >>> 27)) ^ words[i]!, 0x9e3779b1);
  // The last 0–3 bytes, as one word.
  let tail = 0;
  for (let i = n << 2, s = 0; i < b.length; i++, s += 8) tail |= b[i]! << s;
  h = Math.imul(((h << 5) | (h >>> 27)) ^ tail, 0x9e3779b1);
  // Spread the last word's bits over all 32 (a final mix, as in MurmurHash3).
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return (h ^ (h >>> 16)) >>> 0;
}

/** A checksum as the cache writes it: 8 hex digits. */
export function checksumText(bytes: Uint8Array): string {
  return checksum(bytes).toString(16).padStart(8, '0');
}
