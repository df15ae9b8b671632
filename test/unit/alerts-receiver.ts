/** A webhook receiver for the alerts tests: real HTTP on a free loopback port, answering what the test says. */
import * as http from 'node:http';
import { freePort } from '../helpers/env';

export interface Received {
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

export interface Receiver {
  readonly url: string;
  readonly got: Received[];
  /** The status of the next answers, in order; then 200. */
  answers: number[];
  close(): Promise<void>;
}

export async function startReceiver(pathAndQuery = '/hook'): Promise<Receiver> {
  const port = await freePort();
  const got: Received[] = [];
  const r: Receiver = {
    url: `http://127.0.0.1:${port}${pathAndQuery}`,
    got,
    answers: [],
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString('utf8')));
    req.on('end', () => {
      got.push({ url: req.url ?? '', headers: req.headers, body });
      res.statusCode = r.answers.shift() ?? 200;
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return r;
}
