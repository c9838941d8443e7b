import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { lines, stream };
}

describe('createLogger', () => {
  it('redacts webhook URLs, tokens and authorization headers wherever they appear', () => {
    const { lines, stream } = capture();
    const logger = createLogger('info', stream);
    logger.info(
      {
        alert: {
          url: 'https://hooks.slack.example/services/T0/B0/secret',
          token: 'xoxb-1',
          proxy: 'http://user:secret@proxy:3128',
        },
        request: { headers: { authorization: 'Bearer abc' } },
        url: 'https://hooks.example/secret',
      },
      'Sent notification',
    );
    const line = JSON.stringify(lines[0]);
    expect(line).not.toMatch(/secret|xoxb-1|Bearer abc/);
    expect(lines[0]).toMatchObject({
      msg: 'Sent notification',
      url: '[redacted]',
      alert: { url: '[redacted]', token: '[redacted]', proxy: '[redacted]' },
      request: { headers: { authorization: '[redacted]' } },
    });
  });

  it('writes child bindings on every line', () => {
    const { lines, stream } = capture();
    createLogger('info', stream).child({ canary: 'team-a/podinfo' }).info('Set canary weight');
    expect(lines[0]).toMatchObject({
      canary: 'team-a/podinfo',
      msg: 'Set canary weight',
      component: 'weir',
    });
  });
});
