/**
 * The cache's checksum: 32 bits over the bytes, four at a time. Each step is a bijection of the
 * running value for a given word and of the word for a given running value, so any change of
 * one word (or of the length) always changes the result; changes to several words go unseen only
 * by chance (about 1 in 2^32). A cached run checks only what it reads (a few hundred kilobytes),
 * but does so before V8 has optimised anything: in JavaScript the loop over the words cost
 * ≈ 1 ms per 50–150 KB there (3 ms of a 100 ms run), so it runs as a few bytes of WebAssembly,
 * which is compiled to machine code when loaded (see wordLoop). Not zlib's CRC-32: loading
 * node:zlib and the streams it brings costs ≈ 4 ms.
 */
export function checksum(bytes: Uint8Array): number {
  const n = bytes.length >> 2;
  let h = wordLoop(bytes, n, 0x2f6b3a1d ^ bytes.length);
  // The last 0–3 bytes, as one word.
  let tail = 0;
  for (let i = n << 2, s = 0; i < bytes.length; i++, s += 8) tail |= bytes[i]! << s;
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

/** The running value after the first `n` words of `bytes` (read in the machine's byte order). */
type WordLoop = (bytes: Uint8Array, n: number, h: number) => number;

/** The loop in JavaScript: the reference, and the way where WebAssembly is not there (--jitless). */
export const jsWordLoop: WordLoop = (bytes, n, h) => {
  // Words are read through an Int32Array, which needs 4-byte alignment: copy a view that lacks it.
  const b = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice(0, n * 4);
  const words = new Int32Array(b.buffer, b.byteOffset, n);
  for (let i = 0; i < n; i++) h = Math.imul(((h << 5) | (h >>> 27)) ^ words[i]!, 0x9e3779b1);
  return h;
};

/**
 * The same loop as a WebAssembly module (a function `sum(at, words, h)` over its own memory,
 * which is exported as `mem`), 107 bytes written out here rather than built by a toolchain.
 * Equivalent to: for (end = at + 4·words; at < end; at += 4) h = (rotl(h, 5) ^ load32(at)) · K.
 */
// prettier-ignore
const MODULE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
  0x01, 0x08, 0x01, 0x60, 0x03, 0x7f, 0x7f, 0x7f, 0x01, 0x7f, // types: (i32 i32 i32) → i32
  0x03, 0x02, 0x01, 0x00, // one function, of that type
  0x05, 0x03, 0x01, 0x00, 0x01, // one memory, one page to start
  0x07, 0x0d, 0x02, 0x03, 0x73, 0x75, 0x6d, 0x00, 0x00, 0x03, 0x6d, 0x65, 0x6d, 0x02, 0x00, // exports "sum", "mem"
  0x0a, 0x3f, 0x01, 0x3d, 0x01, 0x01, 0x7f, // code: one body, one more i32 local (end, local 3)
  0x20, 0x00, 0x20, 0x01, 0x41, 0x02, 0x74, 0x6a, 0x21, 0x03, // end = at + (words << 2)
  0x02, 0x40, // block
  0x20, 0x00, 0x20, 0x03, 0x4f, 0x0d, 0x00, //   at >= end: out of the block
  0x03, 0x40, //   loop
  0x20, 0x02, 0x41, 0x05, 0x77, //     rotl(h, 5)
  0x20, 0x00, 0x28, 0x02, 0x00, 0x73, //     ^ load32(at)
  0x41, 0xb1, 0xf3, 0xdd, 0xf1, 0x79, 0x6c, 0x21, 0x02, //     · 0x9e3779b1 → h
  0x20, 0x00, 0x41, 0x04, 0x6a, 0x22, 0x00, //     at += 4
  0x20, 0x03, 0x49, 0x0d, 0x00, //     at < end: again
  0x0b, 0x0b, // end loop, end block
  0x20, 0x02, 0x0b, // h
]);

/** Bytes copied into the module's memory at a time: the running value carries over. */
const CHUNK_BYTES = 256 * 1024;

/** What this module needs of the WebAssembly global (the Node typings this build uses leave it out). */
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
};
interface WasmMemory {
  buffer: ArrayBuffer;
  grow(pages: number): number;
}

let wasm: WordLoop | null | undefined;

/** The loop in WebAssembly (made on first use, ≈ 0.5 ms); undefined where it cannot run as the
 *  JavaScript one does. */
export function wasmWordLoop(): WordLoop | undefined {
  if (wasm === undefined) wasm = makeWasmLoop() ?? null;
  return wasm ?? undefined;
}

function makeWasmLoop(): WordLoop | undefined {
  // WebAssembly reads words little-endian; the JavaScript loop, in the machine's order. Where
  // they differ (a big-endian machine), the JavaScript loop keeps checksums as they were.
  const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  if (typeof WebAssembly !== 'object' || !littleEndian) return undefined;
  let sum: (at: number, words: number, h: number) => number;
  let mem: WasmMemory;
  try {
    const exports = new WebAssembly.Instance(new WebAssembly.Module(MODULE), {}).exports as { sum: typeof sum; mem: WasmMemory };
    ({ sum, mem } = exports);
    mem.grow(CHUNK_BYTES / 65536 - 1);
  } catch {
    return undefined;
  }
  const view = new Uint8Array(mem.buffer, 0, CHUNK_BYTES);
  return (bytes, n, h) => {
    for (let at = 0, end = n * 4; at < end; at += CHUNK_BYTES) {
      const k = Math.min(CHUNK_BYTES, end - at);
      view.set(bytes.subarray(at, at + k));
      h = sum(0, k >> 2, h);
    }
    return h;
  };
}

const wordLoop: WordLoop = (bytes, n, h) => (wasmWordLoop() ?? jsWordLoop)(bytes, n, h);
