/**
 * One pino root logger; subsystems and connections take child loggers.
 * JSON lines by default; human-readable on a TTY (or SAMSA_LOG_PRETTY=1).
 * Secrets are redacted by key name.
 */
import { type Logger, pino } from 'pino';

export type { Logger };

export interface LoggerOptions {
  level?: string;
  pretty?: boolean;
  /** Destination file descriptor (default 1, stdout). */
  fd?: number;
}

const REDACT = [
  'password',
  '*.password',
  'sasl.jaas.config',
  '*.secret',
  'ssl.keystore.password',
  'ssl.key.password',
];

export function createLogger(opts: LoggerOptions = {}): Logger {
  const level = opts.level ?? process.env.SAMSA_LOG_LEVEL ?? 'info';
  const pretty =
    opts.pretty ??
    (process.env.SAMSA_LOG_PRETTY === '1' || (process.stdout.isTTY === true && opts.fd === undefined));
  if (pretty) {
    return pino({
      level,
      redact: REDACT,
      transport: {
        target: 'pino-pretty',
        options: { colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' },
      },
    });
  }
  return pino(
    { level, redact: REDACT, base: { pid: process.pid } },
    pino.destination({ fd: opts.fd ?? 1, sync: true }),
  );
}

/** A logger that drops everything (tests, embedded brokers by default). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
