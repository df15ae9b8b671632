/**
 * The text of a message an operator writes (a reply; later a case note), taken where it does not
 * land in shell history or process lists: standard input when it is piped, else an editor on a
 * private temporary file. A text given on the command line is still accepted, as before.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TiphubError } from '../../src/errors';

/** Far above any platform's message limit (Telegram: 4096 characters), far below harm. */
export const MESSAGE_MAX_BYTES = 64 * 1024;

export interface MessageTextOptions {
  /** The text given on the command line, if any (visible to `ps` and kept in shell history). */
  readonly text?: string;
  /** What is being written, for the editor's template and the errors: "reply to case K7Q-4M2P". */
  readonly what: string;
  readonly stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
  /** Whether standard input is a terminal; default: `stdin.isTTY`. Tests set it. */
  readonly isTTY?: boolean;
  /** The editor command, run through `sh -c` as git does (it may carry arguments); default `vi`. */
  readonly editor?: string | null;
  readonly maxBytes?: number;
  /** Where the private temporary folder goes; default os.tmpdir(). */
  readonly tmpDir?: string;
}

/**
 * The editor the operator chose for their terminal, as git reads it. This is the user's shell
 * preference, not tiphub configuration, so it is not part of the validated config.
 */
export function editorFromEnvironment(): string | null {
  // eslint-disable-next-line no-restricted-properties -- VISUAL/EDITOR are the terminal's preference (as for git), not tiphub settings
  const env = process.env;
  return env.VISUAL?.trim() || env.EDITOR?.trim() || null;
}

function inputError(message: string): TiphubError {
  // Not a configuration error as such; the same code as `queueReply`'s "the reply is empty".
  return new TiphubError('TIPHUB_CONFIG_INVALID', message);
}

function refuseEmpty(text: string, what: string, where: string): string {
  if (!text.trim()) throw inputError(`the ${what} is empty (${where}); nothing was sent`);
  return text;
}

function decodeUtf8(buf: Buffer, what: string, where: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(buf);
  } catch {
    throw inputError(`the ${what} from ${where} is not UTF-8 text`);
  }
}

function tooLarge(what: string, where: string, max: number): TiphubError {
  return inputError(`the ${what} from ${where} is longer than ${max} bytes; nothing was sent`);
}

/** All of a piped standard input, refused as soon as it passes the cap. */
export async function readAllStdin(stdin: NodeJS.ReadableStream, what: string, maxBytes = MESSAGE_MAX_BYTES): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : (chunk as Buffer);
    size += b.length;
    if (size > maxBytes) {
      // Stop reading: whatever writes to us gets EPIPE rather than us holding it all.
      (stdin as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
      throw tooLarge(what, 'standard input', maxBytes);
    }
    chunks.push(b);
  }
  // One trailing newline is how `echo` and here-documents end; it is not part of the message.
  const text = decodeUtf8(Buffer.concat(chunks), what, 'standard input').replace(/\r?\n$/, '');
  return refuseEmpty(text, what, 'standard input');
}

/** The editor's file, as git reads a commit message: `#` lines dropped, blank lines around trimmed. */
export function stripTemplate(text: string): string {
  const kept = text
    .replace(/\r\n/g, '\n')
    .split('\n')
    .filter((l) => !l.startsWith('#'));
  while (kept.length && !kept[0]!.trim()) kept.shift();
  while (kept.length && !kept.at(-1)!.trim()) kept.pop();
  return kept.map((l) => l.replace(/\s+$/, '')).join('\n');
}

function template(what: string): string {
  return [
    '',
    `# Write the ${what} above. Lines starting with '#' are dropped; an empty`,
    '# message cancels, and so does leaving the editor with an error (:cq in vi).',
    '# This file is private to you and deleted as soon as the editor closes.',
    '',
  ].join('\n');
}

/** Runs the editor on `file` in the foreground; resolves when it exits. */
function runEditor(editor: string, file: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', `${editor} "$@"`, editor, file], { stdio: 'inherit' });
    // Ctrl-C and Ctrl-\ reach the editor through the terminal; we wait for it (as git does). A
    // SIGTERM or hang-up is passed on, and the temporary file is still removed afterwards.
    const ignore = () => undefined;
    const pass = (sig: NodeJS.Signals) => child.kill(sig);
    process.on('SIGINT', ignore);
    process.on('SIGQUIT', ignore);
    process.on('SIGTERM', pass);
    process.on('SIGHUP', pass);
    const done = () => {
      process.off('SIGINT', ignore);
      process.off('SIGQUIT', ignore);
      process.off('SIGTERM', pass);
      process.off('SIGHUP', pass);
    };
    child.on('error', (err) => {
      done();
      reject(inputError(`the editor could not be started (${(err as NodeJS.ErrnoException).code ?? 'error'})`));
    });
    child.on('close', (code, signal) => {
      done();
      if (code === 0) resolve();
      else reject(inputError(`the editor ${JSON.stringify(editor.slice(0, 60))} ${signal ? `was stopped by ${signal}` : `exited with status ${code}`}; nothing was sent`));
    });
  });
}

/**
 * The editor path: a 0600 file in a 0700 folder of its own (the editor's swap and backup files
 * land beside it, also private), removed whatever happens.
 */
export async function readFromEditor(opts: { what: string; editor?: string | null; maxBytes?: number; tmpDir?: string }): Promise<string> {
  const editor = opts.editor?.trim() || 'vi';
  const maxBytes = opts.maxBytes ?? MESSAGE_MAX_BYTES;
  const dir = fs.mkdtempSync(path.join(opts.tmpDir ?? os.tmpdir(), 'tiphub-message-'));
  try {
    fs.chmodSync(dir, 0o700);
    const file = path.join(dir, 'MESSAGE.txt');
    fs.writeFileSync(file, template(opts.what), { mode: 0o600, flag: 'wx' });
    await runEditor(editor, file);
    // Editors that save by replacing the file keep it in our 0700 folder; its size is checked before reading.
    const size = fs.statSync(file).size;
    if (size > maxBytes + 4096) throw tooLarge(opts.what, 'the editor', maxBytes);
    const text = stripTemplate(decodeUtf8(fs.readFileSync(file), opts.what, 'the editor'));
    if (Buffer.byteLength(text, 'utf8') > maxBytes) throw tooLarge(opts.what, 'the editor', maxBytes);
    return refuseEmpty(text, opts.what, 'the editor');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The message text: the argument if given, else piped standard input, else the editor. */
export async function readMessageText(opts: MessageTextOptions): Promise<string> {
  const maxBytes = opts.maxBytes ?? MESSAGE_MAX_BYTES;
  if (opts.text !== undefined) {
    if (Buffer.byteLength(opts.text, 'utf8') > maxBytes) throw tooLarge(opts.what, 'the command line', maxBytes);
    return refuseEmpty(opts.text, opts.what, 'the command line');
  }
  const stdin = opts.stdin ?? process.stdin;
  const isTTY = opts.isTTY ?? stdin.isTTY === true;
  if (!isTTY) return readAllStdin(stdin, opts.what, maxBytes);
  return readFromEditor({ what: opts.what, editor: opts.editor, maxBytes, tmpDir: opts.tmpDir });
}
