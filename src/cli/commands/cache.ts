import { Command } from 'commander';
import { cacheInfo, clearCache, defaultCacheDir } from '../../cache/index-store.js';
import { collect, resolveCommon, type CliIO, type CommonOptions } from '../context.js';
import { thousands } from '../../thousands.js';

interface CacheFlags extends CommonOptions {
  json?: boolean;
  all?: boolean;
}

export function cacheCommand(io: CliIO): Command {
  const cmd = new Command('cache').description('the index of the logs kept between runs ($XDG_CACHE_HOME/perfmon, else ~/.cache/perfmon)');
  cmd
    .command('info')
    .description('where the cache is, its size, and for each log file the bytes and lines indexed')
    .option('-d, --dir <dir>', 'log directory (repeatable)', collect)
    .option('--json', 'print as JSON')
    .action((flags: CacheFlags) => {
      const { dirs } = resolveCommon(io, flags);
      const info = cacheInfo(defaultCacheDir(io.env), dirs);
      if (flags.json) {
        io.stdout.write(JSON.stringify(info, null, 2) + '\n');
        return;
      }
      io.stdout.write(`cache: ${info.cacheDir}\n`);
      for (const e of info.entries) {
        io.stdout.write(`\n${e.dir}\n  entry ${e.file} (${(e.bytes / 1024).toFixed(1)} KiB)${e.problem ? `: ${e.problem}` : ''}\n`);
        for (const f of e.files ?? []) io.stdout.write(`  ${f.name}: ${thousands(f.offset)} bytes, ${thousands(f.lines)} lines, ${f.minutes} minutes indexed\n`);
      }
    });
  cmd
    .command('clear')
    .description('delete the cache entries of the log directories (or of all with --all)')
    .option('-d, --dir <dir>', 'log directory (repeatable)', collect)
    .option('--all', 'delete every entry')
    .action((flags: CacheFlags) => {
      const { dirs } = resolveCommon(io, flags);
      const removed = clearCache(defaultCacheDir(io.env), flags.all ? undefined : dirs);
      io.stdout.write(removed.length === 0 ? 'nothing to clear\n' : removed.map((p) => `deleted ${p}\n`).join(''));
    });
  return cmd;
}
