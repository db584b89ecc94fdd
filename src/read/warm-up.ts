import { emptyIndex, indexingSink } from '../cache/file-index.js';
import { resetParserState } from './fast-parse.js';
import { useBucketTable } from '../stats/duration-histogram.js';
import { LineSplitter } from './line-splitter.js';

/**
 * Made-up lines that take every way through the indexing reader: each record type, every field,
 * names in and out of the parser's table, a duration of 0, timestamps alternating between minutes
 * and changing day, numbers with a leading zero, a sign or a fraction, whitespace, and lines the
 * fast path hands to JSON.parse. Their times lie in the first days of 2000, far from any real log.
 */
function warmUpLines(): string {
  const t = (min: string, s: string) => `2000-01-01T00:${min}:${s}Z`;
  const lines = [
    `{"ts":"${t('00', '01.000')}","stage":"preprocess","durationMs":12.5,"success":true,"signalId":"sig_1"}`,
    `{"ts":"${t('00', '01.500')}","stage":"preprocess","durationMs":0,"success":true}`,
    `{"ts":"${t('00', '02.010')}","stage":"classify","durationMs":640,"success":true,"signalId":"sig_1","llmTokens":412,"llmCost":0.00412,"cacheHit":false,"model":"warm-model"}`,
    `{"ts":"${t('00', '03.020')}","stage":"classify","durationMs":0.5,"success":false,"error":"timeout","signalId":"sig_2","llmTokens":0,"llmCost":0,"cacheHit":true,"model":"warm-model-with-a-long-name"}`,
    `{"ts":"${t('01', '00.030')}","type":"queue","depth":7}`,
    `{"ts":"${t('00', '59.040')}","stage":"decide","durationMs":3,"success":true,"signalId":"sig_3"}`,
    `{"ts":"${t('01', '00.050')}","type":"llm","model":"w","durationMs":880.25,"success":true,"llmTokens":120,"llmCost":0.0012}`,
    `{"ts":"${t('00', '59.060')}","type":"stage","stage":"extract","durationMs":1e3,"success":true}`,
    `{"ts":"${t('02', '00.070')}","stage":"total","durationMs":7129.4,"success":true,"signalId":"sig_3","extra":-1.5,"note":"x","flag":false,"on":true}`,
    ` {"ts" : "${t('02', '00.080')}" , "stage":"total", "durationMs": 1 , "success": true }\r`,
    `{"ts":"${t('01', '00.090')}","stage":"total","durationMs":-1,"success":true}`,
    `{"ts":"${t('02', '00.100')}","stage":"total","durationMs":5,"error":null,"success":true}`,
    `{"ts":"${t('02', '00.110')}","stage":"tot\\u0061l","durationMs":5,"success":true,"error":"a \\"quoted\\" error"}`,
    `{"ts":"2000-01-02T00:00:00.120Z","stage":"total","durationMs":5,"success":true,"meta":{"a":1},"error":5,"signalId":true}`,
    `{"ts":"2000-02-30T00:00:00.130Z","stage":"total","durationMs":5,"success":true}`,
    `{"ts":946684800140,"stage":"total","durationMs":5,"success":true}`,
    `{"ts":"${t('02', '00.150')}","stage":"","durationMs":5,"success":true}`,
    `{"ts":"${t('02', '00.160')}","type":"queue","depth":0}`,
    `not json`,
    ``,
  ];
  // Each line twice: the second time its names are known and its minute is one of the last two.
  return [...lines, ...lines].join('\n') + '\n';
}

let warmed = false;

/**
 * Runs the indexing reader over warmUpLines and makes the parser forget the made-up names and
 * minutes. Called once by each thread about to index a large read, before its first range. V8
 * optimises the parser after a few hundred lines, with type feedback only for the ways those
 * lines took; a way first taken later (the second of two alternating minutes, a number starting
 * `0.`, a name outside the table) threw the optimised code away, and the thread ran unoptimised
 * code until it was compiled again (the parser was compiled 7–9 times per cold report of the
 * benchmark day, ≈ 70 ms each; once per thread since). The sinks made here also come before the
 * real ones: V8 first specialises code to a single closure's variables, and discards it when a
 * second closure is made.
 */
export function warmUpIndexing(): void {
  if (warmed) return;
  warmed = true;
  // The histograms' table first: a bucket found without it is a way the warmed code would not take.
  useBucketTable();
  const bytes = Buffer.from(warmUpLines(), 'latin1');
  // Four times, each into an index of its own (its minutes new again): V8 records type feedback
  // only once a function has run a while, so ways taken during the first pass alone leave none.
  for (let pass = 0; pass < 4; pass++) new LineSplitter(indexingSink('(warm-up)', emptyIndex(0), { fastPath: true })).push(bytes);
  resetParserState();
}
