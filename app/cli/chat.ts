/**
 * `tiphub chat`: plays one informant on the simulator channel of the running hub. Lines typed are
 * sent as messages; the bot's answers (and operators' replies) print as they arrive.
 */
import * as os from 'node:os';
import { createInterface } from 'node:readline';
import type { Config } from '../../src/config';
import { openHubStream } from '../hub/control';

export async function runChat(cfg: Readonly<Config>, opts: { as?: string; name?: string }, io: { input: NodeJS.ReadableStream; out: NodeJS.WritableStream }): Promise<number> {
  const address = `chat:${opts.as ?? os.userInfo().username}`;
  const print = (s: string) => io.out.write(s + '\n');
  const stream = await openHubStream(cfg.dataDir, 'chat', { address, name: opts.name ?? null }, (chunk) => {
    const m = JSON.parse(chunk) as { connected?: boolean; pseudonym?: string; text?: string };
    if (m.connected) print(`connected as ${address} (pseudonym ${m.pseudonym}); type a message, Ctrl-D to leave`);
    else if (m.text !== undefined) print(`bot> ${m.text.replace(/\n/g, '\n     ')}`);
  });
  const rl = createInterface({ input: io.input, terminal: false });
  rl.on('line', (line) => {
    if (line.trim()) stream.send({ text: line });
  });
  await new Promise<void>((resolve) => rl.on('close', () => resolve()));
  // Give answers to the last lines a moment to arrive before leaving.
  await Promise.race([stream.done, new Promise((r) => setTimeout(r, 1500))]);
  stream.close();
  return 0;
}
