import type { Logger } from '../../src/observability/logger.js';

/** One logged line, as the code called the logger. */
export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  meta: Record<string, unknown>;
}

/** A logger that records every line synchronously (children log into the same list). */
export function recordingLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = {} as Record<string, unknown>;
  for (const level of ['debug', 'info', 'warn', 'error'] as const) {
    logger[level] = (message: string, meta: Record<string, unknown> = {}) => {
      lines.push({ level, message, meta });
      return logger;
    };
  }
  logger['child'] = () => logger;
  logger['isLevelEnabled'] = () => true;
  return { logger: logger as unknown as Logger, lines };
}
