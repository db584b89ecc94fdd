import { Command, Option } from 'commander';
import { PerfmonError } from '../../errors.js';
import { createRecorder } from '../../record/recorder.js';
import { resolveCommon, type CliIO } from '../context.js';

interface RecordFlags {
  dir?: string;
  config?: string;
  error?: string;
  tokens?: string;
  cost?: string;
  cacheHit?: boolean;
  cacheMiss?: boolean;
  signalId?: string;
  model?: string;
}

export function recordCommand(io: CliIO): Command {
  return new Command('record')
    .description('append one stage record to the log directory (for shell scripts)')
    .argument('<stage>', 'stage name, e.g. classify or total')
    .argument('<durationMs>', 'duration in milliseconds (a number >= 0)')
    .option('-d, --dir <dir>', 'log directory (default: $PERFMON_DIR or ./data/performance)')
    .option('-c, --config <file>', 'configuration file')
    .option('--error <message>', 'record a failure with this error message')
    .option('--tokens <n>', 'LLM tokens used')
    .option('--cost <usd>', 'LLM cost in USD')
    .addOption(new Option('--cache-hit', 'the result came from a cache').conflicts('cacheMiss'))
    .addOption(new Option('--cache-miss', 'the cache was asked and missed').conflicts('cacheHit'))
    .option('--signal-id <id>', 'the signal this record belongs to')
    .option('--model <name>', 'the LLM model used')
    .addHelpText('after', '\nExample:\n  perfmon record classify 850.4 --tokens 450 --cost 0.0023 --cache-miss')
    .action(async (stage: string, duration: string, flags: RecordFlags) => {
      const { config, dirs } = resolveCommon(io, { dir: flags.dir ? [flags.dir] : undefined, config: flags.config });
      if (stage === '') throw new PerfmonError('BAD_ARGUMENT', 'stage must not be empty', 2);
      const durationMs = number(duration, '<durationMs>');
      const recorder = createRecorder({
        dir: dirs[0]!,
        sync: true,
        retentionHours: config.metricsRetentionHours,
        now: io.now,
        onWarning: (m) => io.stderr.write(m + '\n'),
      });
      recorder.recordMetric(stage, durationMs, {
        success: flags.error === undefined,
        error: flags.error,
        llmTokens: flags.tokens === undefined ? undefined : number(flags.tokens, '--tokens'),
        llmCost: flags.cost === undefined ? undefined : number(flags.cost, '--cost'),
        cacheHit: flags.cacheHit ? true : flags.cacheMiss ? false : undefined,
        signalId: flags.signalId,
        model: flags.model,
      });
      await recorder.close();
      const { written, failed } = recorder.stats();
      if (written !== 1 || failed > 0) {
        throw new PerfmonError('WRITE_FAILED', `could not append the record to ${dirs[0]} (see the warning above)`);
      }
    });
}

function number(text: string, name: string): number {
  const v = text.trim() === '' ? NaN : Number(text);
  if (!Number.isFinite(v) || v < 0) {
    throw new PerfmonError('BAD_ARGUMENT', `invalid ${name} "${text}": expected a number >= 0`, 2);
  }
  return v;
}
