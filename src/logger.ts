import { pino, type DestinationStream, type Logger } from 'pino';

/**
 * Paths pino blanks out wherever they appear in a log object: credentials and
 * the URLs of webhooks and Slack, which carry their secret in the path.
 */
export const redactedPaths = [
  '*.token',
  '*.password',
  '*.authorization',
  '*.headers.authorization',
  '*.headers.Authorization',
  '*.webhookUrl',
  '*.address',
  '*.url',
  '*.proxy',
  'token',
  'password',
  'url',
  'address',
  'proxy',
];

/** Creates the one root logger; components take `logger.child({...})`. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { component: 'weir' },
      redact: { paths: redactedPaths, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
