import winston from 'winston';

/** The only logging surface the rest of the code sees. */
export type Logger = Pick<winston.Logger, 'debug' | 'info' | 'warn' | 'error' | 'child'>;

/** A JSON logger on stdout, one object a line. */
export function createLogger(level = 'info'): Logger {
  return winston.createLogger({
    level,
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports: [new winston.transports.Console()],
  });
}

/** A logger that drops everything; tests pass this instead of muting a global. */
export function nopLogger(): Logger {
  return winston.createLogger({ silent: true });
}
