// Writes stage records at a steady rate with the perfmon recorder, for the watch soak benchmark.
//   node bench/soak-writer.js DIR RATE_PER_SECOND SECONDS
// Prints the number of records written on exit.
import { createRecorder } from '../dist/index.js';

const [dir, rate, seconds] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const rec = createRecorder({ dir, retentionHours: 0 });
const stages = ['preprocess', 'classify', 'decide', 'extract', 'total'];
const start = Date.now();
let written = 0;
let n = 0;
const tick = setInterval(() => {
  // Catch up to where the rate says we should be, so timer jitter does not lower the rate.
  const due = Math.floor(((Date.now() - start) / 1000) * rate);
  for (; written < due; written++) {
    const stage = stages[n++ % stages.length];
    rec.recordMetric(stage, 20 + (n % 1000) * 1.7, {
      signalId: `sig_${Math.floor(n / 5)}`,
      llmTokens: stage === 'classify' ? 300 + (n % 200) : undefined,
      llmCost: stage === 'classify' ? 0.0015 : undefined,
      cacheHit: stage === 'classify' ? n % 3 === 0 : undefined,
      model: stage === 'classify' ? 'gpt-4o-mini' : undefined,
      success: n % 97 !== 0,
    });
    if (n % 500 === 0) rec.recordQueueDepth(n % 40);
  }
  if (Date.now() - start >= seconds * 1000) {
    clearInterval(tick);
    rec.close().then(() => console.log(JSON.stringify({ written: rec.stats().written })));
  }
}, 10);
