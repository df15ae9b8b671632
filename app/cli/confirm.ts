/**
 * A yes/no question for a destructive command, asked only where a person can answer: on a
 * terminal. Off a terminal (a script, a pipe) the answer is no; such callers say `--yes`.
 */
import { createInterface } from 'node:readline/promises';

export async function confirmOnTty(question: string, io: { input: NodeJS.ReadableStream & { isTTY?: boolean }; output: NodeJS.WritableStream } = { input: process.stdin, output: process.stderr }): Promise<boolean> {
  if (io.input.isTTY !== true) return false;
  const rl = createInterface({ input: io.input, output: io.output });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}
