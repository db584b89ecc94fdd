// Child process for test/record/recorder-processes.test.ts: records stage lines through the built
// library the way a pipeline does, then ends in the way the test asks for.
//
//   node record-child.mjs <dir> <tag> <count> <mode>
//   mode: "natural"  wait for "go" on stdin, record, end normally (the concurrency test's barrier)
//         "exit"     record, print the buffered count, then process.exit(0) at once
//         "wait"     record, print "ready <buffered>", then stay alive until a signal arrives
const { getPerformanceMonitor } = await import(new URL('../../dist/index.js', import.meta.url).href);

const [dir, tag, countText, mode] = process.argv.slice(2);
const count = Number(countText);
// The default batching (100 ms, 64 KiB) for the concurrency test; for the exit tests a long
// interval, so that lines are certainly still in memory when the process ends.
const monitor = getPerformanceMonitor({
  dir,
  retentionHours: 0,
  ...(mode === 'natural' ? {} : { flushIntervalMs: 600_000 }),
  onWarning: (m) => process.stderr.write(`warning: ${m}\n`),
});

function recordAll() {
  for (let i = 0; i < count; i++) {
    monitor.recordMetric('classify', 100 + (i % 900) + 0.25, {
      signalId: `${tag}-${i}`,
      llmTokens: 200 + (i % 500),
      llmCost: 0.0001 * (i % 50),
      cacheHit: i % 3 === 0,
      success: i % 17 !== 0,
      model: 'gpt-4o-mini',
    });
  }
}

if (mode === 'natural') {
  process.stdout.write('ready\n');
  process.stdin.once('data', () => {
    recordAll();
    process.stdin.pause();
    process.stdin.unref?.();
  });
} else if (mode === 'exit') {
  recordAll();
  process.stdout.write(`buffered ${monitor.stats().buffered}\n`);
  process.exit(0);
} else if (mode === 'wait') {
  recordAll();
  setInterval(() => {}, 1000);
  process.stdout.write(`ready ${monitor.stats().buffered}\n`);
} else {
  process.stderr.write(`unknown mode ${mode}\n`);
  process.exit(64);
}
