import { rng } from './rng.js';

const iso = (ts: number) => new Date(ts).toISOString();

/**
 * 200–600 lines of the four minutes from `M` as writers write them: mostly in time order, a tenth
 * up to 3 s late, with odd spellings (whitespace, `ts` last, another time zone, a second or
 * escaped `ts`, an escaped key, a second name) and malformed lines among them.
 */
export function trickyLines(seed: number, M: number): string[] {
  const rand = rng(seed);
  const lines: string[] = [];
  const n = 200 + Math.floor(rand() * 400);
  const coarse = seed % 4 === 0;
  for (let i = 0; i < n; i++) {
    // Mostly in time order, some a little late (another writer's batch).
    const ts = M + Math.floor((i / n) * 4 * 60_000) - (rand() < 0.1 ? Math.floor(rand() * 3_000) : 0);
    const duration = coarse ? 10 * Math.floor(rand() * 20) : Math.round(rand() * 400_000) / 100;
    const u = rand();
    let line: string;
    if (u < 0.06) line = JSON.stringify({ ts: iso(ts), type: 'queue', depth: Math.floor(rand() * 30) });
    else if (u < 0.2) line = JSON.stringify({ ts: iso(ts), type: 'llm', model: rand() < 0.5 ? 'a' : 'b', durationMs: rand() < 0.9 ? duration : undefined, success: rand() > 0.1, llmTokens: Math.floor(rand() * 500), llmCost: rand() / 100 });
    else line = JSON.stringify({ ts: iso(ts), stage: ['preprocess', 'classify', 'total', 'café'][Math.floor(rand() * 4)], durationMs: duration, success: rand() > 0.05, cacheHit: rand() < 0.5, llmTokens: rand() < 0.4 ? Math.floor(rand() * 300) : undefined });
    const v = rand();
    if (v < 0.03) line = line.replace('{"ts":', '{ "ts" : '); // whitespace: its time is read by parsing
    else if (v < 0.05) line = line.replace(/^\{"ts":("[^"]*"),(.*)\}$/, '{$2,"ts":$1}'); // ts last
    else if (v < 0.06) line = line.replace(/"ts":"[^"]*"/, `"ts":"${iso(ts + 3_600_000).replace('Z', '+01:00').replace(/T(\d\d)/, (_, h: string) => `T${String((Number(h) + 1) % 24).padStart(2, '0')}`)}"`); // another spelling of the same instant
    else if (v < 0.07) line = line.slice(0, -1) + `,"ts":"${iso(ts + Math.floor((rand() - 0.5) * 20_000))}"}`; // a second ts: the last one counts
    else if (v < 0.075) line = line.replace('"success":', '"succ\\u0065ss":'); // an escaped key
    else if (v < 0.08) line = line.slice(0, -1) + `,"\\u0074s":"${iso(ts + Math.floor((rand() - 0.5) * 20_000))}"}`; // a second ts, escaped
    else if (v < 0.1) line = line.replace(/,"durationMs":[^,}]*/, ''); // malformed (a stage without its duration)
    else if (v < 0.11) line = line.slice(0, 40); // malformed (cut short)
    else if (v < 0.13) line = line.slice(0, -1) + (rand() < 0.5 ? ',"stage":"classify"}' : ',"model":"b"}'); // a second name: the last one counts
    lines.push(line);
  }
  return lines;
}
