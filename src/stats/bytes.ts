/**
 * A little-endian binary form for rollups, which the cache stores: decoding it is a few reads
 * per field where JSON text has to be parsed number by number and then converted (for a day's
 * index, ≈ 15 ms of every cached run). Numbers are float64 (exact for every count, time and
 * partial sum, non-finite ones included), counts of a histogram the narrowest unsigned integer
 * that holds them, aligned so that they are read as one typed-array copy.
 */

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Appends values to a growing buffer. */
export class ByteWriter {
  private buf = new Uint8Array(4096);
  private view = new DataView(this.buf.buffer);
  pos = 0;

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  f64(x: number): void {
    this.room(8);
    this.view.setFloat64(this.pos, x, true);
    this.pos += 8;
  }

  u32(x: number): void {
    this.room(4);
    this.view.setUint32(this.pos, x, true);
    this.pos += 4;
  }

  u8(x: number): void {
    this.room(1);
    this.buf[this.pos++] = x;
  }

  /** Zero bytes up to a multiple of `n` (8 at most). */
  align(n: number): void {
    while (this.pos % n !== 0) this.u8(0);
  }

  /** Writes `x` over the u32 written at `at` (a length known only after what follows it). */
  u32At(at: number, x: number): void {
    this.view.setUint32(at, x, true);
  }

  /** A string: its UTF-8 length, then its bytes. */
  str(s: string): void {
    const bytes = Buffer.from(s, 'utf8');
    this.u32(bytes.length);
    this.room(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** Integer counts (each ≥ 0) in the narrowest of 1, 2 or 4 bytes that holds all, else 8. */
  counts(c: Float64Array): void {
    // A loop of ours: V8 optimises it within the first thousands of counts (on the stack, while
    // it runs), and a day's index has millions; typed-array conversions in the engine cost
    // allocations per histogram that a worker encoding its minutes paid ≈ 10 µs each for.
    let max = 0;
    let fits = true;
    for (let i = 0; i < c.length; i++) {
      const x = c[i]!;
      // -0 is not stored as 0: widths below 8 hold what they were given, bit for bit.
      if (!(x >= 0 && x <= 0xffffffff && Math.floor(x) === x) || (x === 0 && 1 / x < 0)) {
        fits = false;
        break;
      }
      if (x > max) max = x;
    }
    const width = !fits ? 8 : max > 0xffff ? 4 : max > 0xff ? 2 : 1;
    this.u32(c.length);
    this.u8(width);
    this.align(width);
    const bytes = c.length * width;
    this.room(bytes);
    const at = this.pos;
    const buf = this.buf;
    const view = this.view;
    if (width === 1) for (let i = 0; i < c.length; i++) buf[at + i] = c[i]!;
    else if (width === 2) for (let i = 0; i < c.length; i++) view.setUint16(at + i * 2, c[i]!, true);
    else if (width === 4) for (let i = 0; i < c.length; i++) view.setUint32(at + i * 4, c[i]!, true);
    else if (LITTLE_ENDIAN) buf.set(new Uint8Array(c.buffer, c.byteOffset, bytes), at);
    else for (let i = 0; i < c.length; i++) view.setFloat64(at + i * 8, c[i]!, true);
    this.pos += bytes;
  }

  /** Bytes as they are (another writer's output, written at the same alignment). */
  raw(bytes: Uint8Array): void {
    this.room(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** The bytes written (a copy). */
  bytes(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}

/** Thrown for bytes that do not decode: a damaged or hand-made form. */
export class ByteFormError extends Error {}

/** Reads what a ByteWriter wrote, from the start of `bytes`. */
export class ByteReader {
  private readonly bytes: Uint8Array;
  private readonly view: DataView;
  pos = 0;

  constructor(bytes: Uint8Array) {
    // Counts are read as typed arrays over the buffer, which needs their alignment within it:
    // a view that does not start on an 8-byte boundary is copied to one that does.
    this.bytes = bytes.byteOffset % 8 === 0 ? bytes : new Uint8Array(bytes);
    this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
  }

  get done(): boolean {
    return this.pos === this.bytes.length;
  }

  private need(n: number): void {
    if (this.pos + n > this.bytes.length) throw new ByteFormError(`read past the end (${this.pos} + ${n} > ${this.bytes.length})`);
  }

  f64(): number {
    this.need(8);
    const x = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return x;
  }

  u32(): number {
    this.need(4);
    const x = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return x;
  }

  u8(): number {
    this.need(1);
    return this.bytes[this.pos++]!;
  }

  align(n: number): void {
    this.pos += (n - (this.pos % n)) % n;
  }

  /** The `n` bytes from `at` (a view; `at` from skip). */
  slice(at: number, n: number): Uint8Array {
    return this.bytes.subarray(at, at + n);
  }

  /** Passes over `n` bytes, returning where they start. */
  skip(n: number): number {
    this.need(n);
    const at = this.pos;
    this.pos += n;
    return at;
  }

  str(): string {
    const n = this.u32();
    this.need(n);
    const s = Buffer.from(this.bytes.buffer, this.bytes.byteOffset + this.pos, n).toString('utf8');
    this.pos += n;
    return s;
  }

  counts(): Float64Array {
    const n = this.u32();
    const width = this.u8();
    if (width !== 1 && width !== 2 && width !== 4 && width !== 8) throw new ByteFormError(`a count width of ${width}`);
    this.align(width);
    this.need(n * width);
    const at = this.bytes.byteOffset + this.pos;
    this.pos += n * width;
    const buffer = this.bytes.buffer;
    if (!LITTLE_ENDIAN && width > 1) {
      const out = new Float64Array(n);
      const v = new DataView(buffer, at, n * width);
      for (let i = 0; i < n; i++) out[i] = width === 8 ? v.getFloat64(i * 8, true) : width === 4 ? v.getUint32(i * 4, true) : v.getUint16(i * 2, true);
      return out;
    }
    // One copy with conversion, in the engine rather than a loop of ours.
    if (width === 8) return new Float64Array(buffer.slice(at, at + n * 8));
    if (width === 4) return new Float64Array(new Uint32Array(buffer, at, n));
    if (width === 2) return new Float64Array(new Uint16Array(buffer, at, n));
    return new Float64Array(new Uint8Array(buffer, at, n));
  }
}
