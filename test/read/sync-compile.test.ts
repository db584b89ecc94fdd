import { describe, expect, it } from 'vitest';
import { holdSyncCompile, releaseSyncCompile } from '../../src/read/sync-compile.js';

/** A stand-in for node:v8 that keeps the flags it was given. */
function fakeV8() {
  const set: string[] = [];
  return { set, setFlagsFromString: (f: string) => void set.push(f) };
}

describe('holdSyncCompile / releaseSyncCompile', () => {
  it('turns concurrent compilation off for the readers starting and back on once they all run', () => {
    const v8 = fakeV8();
    holdSyncCompile(v8, 2);
    expect(v8.set).toEqual(['--no-concurrent-recompilation']);
    releaseSyncCompile(v8);
    expect(v8.set).toEqual(['--no-concurrent-recompilation']);
    releaseSyncCompile(v8);
    expect(v8.set).toEqual(['--no-concurrent-recompilation', '--concurrent-recompilation']);
  });

  it('keeps it off while the readers of an overlapping read are still starting', () => {
    const v8 = fakeV8();
    holdSyncCompile(v8, 2); // read A
    releaseSyncCompile(v8);
    holdSyncCompile(v8, 2); // read B, before A's second reader runs
    releaseSyncCompile(v8); // A's second reader
    releaseSyncCompile(v8); // B's first
    // B's second reader has not started: its isolate must still be created with the flag off.
    expect(v8.set).toEqual(['--no-concurrent-recompilation']);
    releaseSyncCompile(v8);
    expect(v8.set).toEqual(['--no-concurrent-recompilation', '--concurrent-recompilation']);
    // Then a new read sets it again.
    holdSyncCompile(v8, 1);
    releaseSyncCompile(v8);
    expect(v8.set.slice(2)).toEqual(['--no-concurrent-recompilation', '--concurrent-recompilation']);
  });

  it('ignores a read of no readers and releases beyond the holds', () => {
    const v8 = fakeV8();
    holdSyncCompile(v8, 0);
    releaseSyncCompile(v8);
    expect(v8.set).toEqual([]);
  });
});
