/** A style: the text wrapped in its terminal codes, or as it is when colour is off. */
export type Style = (text: string) => string;

/** The terminal styles perfmon prints (SGR codes of the basic 16 colours). */
export interface Colors {
  readonly bold: Style & { readonly inverse: Style };
  readonly dim: Style;
  readonly red: Style & { readonly bold: Style };
  readonly green: Style;
  readonly yellow: Style;
  readonly cyan: Style;
  readonly magenta: Style;
}

/** Each style's code and the code that ends it. */
const CODES = {
  bold: [1, 22],
  dim: [2, 22],
  inverse: [7, 27],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  cyan: [36, 39],
  magenta: [35, 39],
} as const satisfies Record<string, readonly [number, number]>;

const sgr = (code: number) => `\x1b[${code}m`;

/**
 * The styles `names` together (the first outermost). As chalk does: an inner style that ends
 * with one of their codes is followed by that style's code again (the outer style goes on after
 * it), and every line is ended and opened on its own (a pager shows lines one by one).
 */
function style(...names: Array<keyof typeof CODES>): Style {
  const codes = names.map((n) => CODES[n]);
  const open = codes.map(([o]) => sgr(o)).join('');
  const close = codes.map(([, c]) => sgr(c)).reverse().join('');
  return (text) => {
    if (text === '') return text;
    if (text.includes('\x1b')) for (const [o, c] of codes) text = text.replaceAll(sgr(c), sgr(c) + sgr(o));
    if (text.includes('\n')) text = text.replace(/\r?\n/g, (nl) => close + nl + open);
    return open + text + close;
  };
}

/** The styles, coloured or (`on` false) the text unchanged. perfmon decides when: see colorFor. */
export function colors(on: boolean): Colors {
  if (!on) {
    const plain: Style = (text) => text;
    return { bold: Object.assign((text: string) => text, { inverse: plain }), dim: plain, red: Object.assign((text: string) => text, { bold: plain }), green: plain, yellow: plain, cyan: plain, magenta: plain };
  }
  return {
    bold: Object.assign(style('bold'), { inverse: style('bold', 'inverse') }),
    dim: style('dim'),
    red: Object.assign(style('red'), { bold: style('red', 'bold') }),
    green: style('green'),
    yellow: style('yellow'),
    cyan: style('cyan'),
    magenta: style('magenta'),
  };
}
