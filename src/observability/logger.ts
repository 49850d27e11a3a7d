import winston from 'winston';

/** The only logging surface the rest of the code sees. */
export type Logger = Pick<winston.Logger, 'debug' | 'info' | 'warn' | 'error' | 'child' | 'isLevelEnabled'>;

/** A JSON logger on stdout, one object a line; `meta` (the replica's name) goes into every line, child loggers' too. */
export function createLogger(level = 'info', meta?: Record<string, string>): Logger {
  return skipDisabledLevels(
    winston.createLogger({
      level,
      defaultMeta: meta,
      format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
      transports: [new winston.transports.Console()],
    }),
  );
}

/**
 * winston pushes every call through its stream pipeline before its transports
 * look at the level, so a disabled `debug` still costs a few µs. The dispatcher
 * logs per delivery at debug, so calls below the level return at once. Child
 * loggers inherit this, and the level stays live.
 */
function skipDisabledLevels(logger: winston.Logger): winston.Logger {
  // winston's own isLevelEnabled allocates per call; our transports have no level of their own, so compare numbers.
  const enabled = function (this: winston.Logger, level: string): boolean {
    return (this.levels[level] ?? Infinity) <= (this.levels[this.level] ?? -Infinity);
  };
  logger.isLevelEnabled = enabled;
  for (const level of ['debug', 'info', 'warn', 'error'] as const) {
    const log = logger[level];
    logger[level] = function (this: winston.Logger, ...args: Parameters<winston.LeveledLogMethod>) {
      return enabled.call(this, level) ? log.apply(this, args) : this;
    } as winston.LeveledLogMethod;
  }
  return logger;
}

/** A logger that drops everything; tests pass this instead of muting a global. */
export function nopLogger(): Logger {
  return winston.createLogger({ silent: true });
}
