import type { Colors } from './colors.js';
import { loadConfig, resolveDirs, type LoadedConfig } from '../config.js';
import { colorFor } from './text.js';

/** The outside world of a CLI run, injected so tests drive the program without a process. */
export interface CliIO {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number; rows?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: Record<string, string | undefined>;
  cwd: string;
  now: () => number;
}

/** What a run reports back besides its output: commands like `issues` choose the exit code. */
export interface CliRun {
  exitCode: number;
}

export interface CommonOptions {
  dir?: string[];
  config?: string;
}

/** Resolves configuration and directories once, at the edge. */
export function resolveCommon(io: CliIO, o: CommonOptions): LoadedConfig & { dirs: string[] } {
  const loaded = loadConfig({ configPath: o.config ?? io.env.PERFMON_CONFIG, cwd: io.cwd, env: io.env });
  return { ...loaded, dirs: resolveDirs(o.dir, io.env) };
}

export function stdoutColor(io: CliIO): Colors {
  return colorFor(io.stdout, io.env);
}

/** Repeatable option collector for commander. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/**
 * Progress on stderr for long reads: only on a TTY, only once a read has taken over a second,
 * and erased when done, so pipes and quick runs see nothing.
 */
export function progressReporter(io: CliIO): { onProgress: (done: number, total: number) => void; done: () => void } {
  const start = io.now();
  let shown = false;
  // Asked only once a read has run a second: knowing costs the process its stderr stream.
  let tty: boolean | undefined;
  return {
    onProgress(done, total) {
      if (io.now() - start < 1000 || !(tty ??= io.stderr.isTTY === true)) return;
      shown = true;
      io.stderr.write(`\r\x1b[2Kreading log files: ${done}/${total}`);
    },
    done() {
      if (shown) io.stderr.write('\r\x1b[2K');
    },
  };
}
