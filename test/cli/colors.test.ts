import { describe, expect, it } from 'vitest';
import { colors } from '../../src/cli/colors.js';

// The sequences chalk 5 prints at level 1 for the same calls (compared when perfmon used it).
const c = colors(true);

describe('colors', () => {
  it('wraps text in a style\'s code and the code that ends it, two styles outermost first', () => {
    expect(c.red('x')).toBe('\x1b[31mx\x1b[39m');
    expect(c.red.bold('x')).toBe('\x1b[31m\x1b[1mx\x1b[22m\x1b[39m');
    expect(c.bold.inverse(' HIGH ')).toBe('\x1b[1m\x1b[7m HIGH \x1b[27m\x1b[22m');
    expect(c.dim('d')).toBe('\x1b[2md\x1b[22m');
    expect([c.green('g'), c.yellow('y'), c.cyan('c'), c.magenta('m')]).toEqual(['\x1b[32mg\x1b[39m', '\x1b[33my\x1b[39m', '\x1b[36mc\x1b[39m', '\x1b[35mm\x1b[39m']);
  });

  it('opens the outer style again after an inner one that ends with the same code', () => {
    expect(c.red('a' + c.green('b') + 'c')).toBe('\x1b[31ma\x1b[32mb\x1b[39m\x1b[31mc\x1b[39m');
    expect(c.bold('a' + c.dim('b') + 'c')).toBe('\x1b[1ma\x1b[2mb\x1b[22m\x1b[1mc\x1b[22m');
  });

  it('ends and opens the styles around every line break, \\r\\n kept whole', () => {
    expect(c.bold('a\nb\r\nc')).toBe('\x1b[1ma\x1b[22m\n\x1b[1mb\x1b[22m\r\n\x1b[1mc\x1b[22m');
  });

  it('leaves empty text empty, and every text as it is with colour off', () => {
    expect(c.yellow('')).toBe('');
    const off = colors(false);
    for (const s of [off.bold, off.bold.inverse, off.dim, off.red, off.red.bold, off.green, off.yellow, off.cyan, off.magenta]) expect(s('a\nb\x1b[31m')).toBe('a\nb\x1b[31m');
  });
});
