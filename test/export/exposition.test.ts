import { describe, expect, it } from 'vitest';
import { escapeHelp, escapeLabelValue, formatValue, isValidNamespace, renderText, type MetricFamily } from '../../src/export/exposition.js';

// Backslashes are spelled with String.raw where it helps: String.raw`\\n` is the three characters \ \ n.

/** Independent reader of an escaped label value (the text between the quotes): \\ \" \n only. */
function unescapeLabel(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '"') throw new Error(`unescaped quote at ${i} in ${JSON.stringify(s)}`);
    if (c === '\n') throw new Error(`raw newline at ${i} in ${JSON.stringify(s)}`);
    if (c !== '\\') {
      out += c;
      continue;
    }
    const n = s[++i];
    if (n === '\\') out += '\\';
    else if (n === '"') out += '"';
    else if (n === 'n') out += '\n';
    else throw new Error(`bad escape \\${n ?? '(end)'} in ${JSON.stringify(s)}`);
  }
  return out;
}

describe('escapeLabelValue', () => {
  it('escapes backslash, double quote and newline', () => {
    expect(escapeLabelValue(String.raw`a\b`)).toBe(String.raw`a\\b`);
    expect(escapeLabelValue('a"b')).toBe(String.raw`a\"b`);
    expect(escapeLabelValue('a\nb')).toBe(String.raw`a\nb`);
  });

  it('leaves everything else alone', () => {
    for (const s of ['', 'plain', 'with space', 'tab\there', '{}=,', 'ünïcödé', '🚀', "it's"]) {
      expect(escapeLabelValue(s)).toBe(s);
    }
  });

  it('escapes backslashes first: a backslash followed by n becomes \\\\n, not a newline escape', () => {
    // Input: the two characters \ n. Output must be \ \ n (escaped backslash, then a plain n).
    expect(escapeLabelValue(String.raw`\n`)).toBe(String.raw`\\n`);
    expect(escapeLabelValue(String.raw`\n`)).toHaveLength(3);
    // Input: backslash then a real newline → \\ then \n.
    expect(escapeLabelValue('\\\n')).toBe(String.raw`\\\n`);
    // Input: backslash then quote → \\ then \".
    expect(escapeLabelValue('\\"')).toBe(String.raw`\\\"`);
    // A trailing backslash must not swallow the closing quote.
    expect(escapeLabelValue('end\\')).toBe(String.raw`end\\`);
  });

  it('round-trips through an independent unescaper for every string over a hostile alphabet', () => {
    const alphabet = ['\\', '"', '\n', 'n', 'a'];
    // All strings of length ≤ 5 over the alphabet (3,906 strings).
    let strings = [''];
    const all: string[] = [''];
    for (let len = 1; len <= 5; len++) {
      strings = strings.flatMap((s) => alphabet.map((c) => s + c));
      all.push(...strings);
    }
    for (const s of all) {
      const e = escapeLabelValue(s);
      expect(e.includes('\n'), JSON.stringify(s)).toBe(false);
      expect(unescapeLabel(e), JSON.stringify(s)).toBe(s);
    }
  });
});

describe('escapeHelp', () => {
  it('escapes backslash and newline, backslash first', () => {
    expect(escapeHelp(String.raw`a\b`)).toBe(String.raw`a\\b`);
    expect(escapeHelp('line1\nline2')).toBe(String.raw`line1\nline2`);
    expect(escapeHelp(String.raw`\n`)).toBe(String.raw`\\n`);
    expect(escapeHelp('\\\n')).toBe(String.raw`\\\n`);
  });

  it('does not escape double quotes (HELP text only escapes \\ and newline)', () => {
    expect(escapeHelp('the "total" stage')).toBe('the "total" stage');
  });
});

describe('formatValue', () => {
  const FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

  it('spells NaN and the infinities as the format requires', () => {
    expect(formatValue(NaN)).toBe('NaN');
    expect(formatValue(Infinity)).toBe('+Inf');
    expect(formatValue(-Infinity)).toBe('-Inf');
  });

  it('prints integers without a fraction or exponent', () => {
    expect(formatValue(0)).toBe('0');
    expect(formatValue(1)).toBe('1');
    expect(formatValue(-3)).toBe('-3');
    expect(formatValue(1800)).toBe('1800');
    expect(formatValue(1_000_000)).toBe('1000000');
    expect(formatValue(2 ** 53)).toBe('9007199254740992');
  });

  it('prints fractions that parse back to the same number', () => {
    for (const v of [0.5, 0.1, -0.25, 1 / 3, 2.6728605555555562, 0.03333333333333333]) {
      const s = formatValue(v);
      expect(s).toMatch(FLOAT);
      expect(Number(s)).toBe(v);
    }
  });

  it('prints tiny and huge floats as valid float literals that round-trip exactly', () => {
    for (const v of [1e-7, 5e-324, Number.MIN_VALUE, 1.5e-300, 1e21, 1.7976931348623157e308, -2.5e-10, -3e25]) {
      const s = formatValue(v);
      expect(s, String(v)).toMatch(FLOAT);
      expect(Number(s), s).toBe(v);
    }
  });
});

describe('isValidNamespace', () => {
  it('accepts metric-name prefixes without colons and rejects the rest', () => {
    for (const ok of ['perfmon', 'reasoning', '_x', 'a1_b2', 'A']) expect(isValidNamespace(ok), ok).toBe(true);
    for (const bad of ['', '9x', 'a-b', 'a:b', 'a b', 'é', 'a.b']) expect(isValidNamespace(bad), bad).toBe(false);
  });
});

describe('renderText', () => {
  const fam = (over: Partial<MetricFamily> & Pick<MetricFamily, 'name'>): MetricFamily => ({ help: 'Help.', type: 'gauge', samples: [], ...over });

  it('renders a family as HELP, TYPE, then its samples', () => {
    const text = renderText([fam({ name: 'x_seconds', help: 'X in seconds.', samples: [{ value: 1.5 }] })]);
    expect(text).toBe('# HELP x_seconds X in seconds.\n# TYPE x_seconds gauge\nx_seconds 1.5\n');
  });

  it('writes HELP and TYPE once per family, with every sample grouped under its family', () => {
    const text = renderText([
      fam({
        name: 'd_seconds',
        type: 'summary',
        samples: [
          { labels: [['stage', 'a'], ['quantile', '0.5']], value: 1 },
          { labels: [['stage', 'a'], ['quantile', '0.95']], value: 2 },
          { suffix: '_sum', labels: [['stage', 'a']], value: 10 },
          { suffix: '_count', labels: [['stage', 'a']], value: 5 },
        ],
      }),
      fam({ name: 'e', samples: [{ labels: [['stage', 'a']], value: 0 }, { labels: [['stage', 'b']], value: 1 }] }),
    ]);
    expect(text).toBe(
      [
        '# HELP d_seconds Help.',
        '# TYPE d_seconds summary',
        'd_seconds{stage="a",quantile="0.5"} 1',
        'd_seconds{stage="a",quantile="0.95"} 2',
        'd_seconds_sum{stage="a"} 10',
        'd_seconds_count{stage="a"} 5',
        '# HELP e Help.',
        '# TYPE e gauge',
        'e{stage="a"} 0',
        'e{stage="b"} 1',
        '',
      ].join('\n'),
    );
    expect(text.match(/^# HELP d_seconds /gm)).toHaveLength(1);
    expect(text.match(/^# TYPE d_seconds /gm)).toHaveLength(1);
  });

  it('leaves out families without samples, HELP and TYPE included', () => {
    const text = renderText([fam({ name: 'empty' }), fam({ name: 'full', samples: [{ value: 2 }] }), fam({ name: 'empty2', type: 'counter' })]);
    expect(text).toBe('# HELP full Help.\n# TYPE full gauge\nfull 2\n');
    expect(text).not.toContain('empty');
    expect(renderText([fam({ name: 'empty' })])).toBe('');
    expect(renderText([])).toBe('');
  });

  it('renders labels in the order given, not sorted', () => {
    const text = renderText([fam({ name: 'm', samples: [{ labels: [['z', '1'], ['a', '2'], ['m', '3']], value: 7 }] })]);
    expect(text.split('\n')[2]).toBe('m{z="1",a="2",m="3"} 7');
  });

  it('omits braces for a sample with no labels or an empty label list', () => {
    const text = renderText([fam({ name: 'm', samples: [{ value: 1 }, { labels: [], suffix: '_x', value: 2 }] })]);
    expect(text.split('\n').slice(2, 4)).toEqual(['m 1', 'm_x 2']);
  });

  it('escapes label values and HELP text, and spells special values', () => {
    const text = renderText([
      fam({
        name: 'm',
        help: 'a\\b\nc "q"',
        samples: [
          { labels: [['stage', '"} 1\nfake_metric 2']], value: NaN },
          { labels: [['stage', 'x\\']], value: Infinity },
          { labels: [['stage', 'y']], value: -Infinity },
        ],
      }),
    ]);
    expect(text).toBe(
      [
        String.raw`# HELP m a\\b\nc "q"`,
        '# TYPE m gauge',
        String.raw`m{stage="\"} 1\nfake_metric 2"} NaN`,
        String.raw`m{stage="x\\"} +Inf`,
        'm{stage="y"} -Inf',
        '',
      ].join('\n'),
    );
    expect(text.split('\n').some((l) => l.startsWith('fake_metric'))).toBe(false);
  });
});
