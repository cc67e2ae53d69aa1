// The one output object: format, colour and streams, decided once in cli.ts from the global
// options and the environment, and handed to every presenter. Presenters build strings from data
// and write them here; nothing else in irsa writes to stdout or decides about colour.

import { Chalk, type ChalkInstance } from 'chalk';

export type OutputFormat = 'text' | 'json' | 'yaml';

export interface Output {
  format: OutputFormat;
  /** ANSI colour on stdout (off with --no-color, NO_COLOR, or when stdout is not a terminal). */
  color: boolean;
  /** --verbose: unchanged resources and details that are otherwise summarised. */
  verbose: boolean;
  /** Painter matching `color` (a no-op painter when colour is off). */
  paint: ChalkInstance;
  /** Painter for stderr, which may be a terminal when stdout is not. */
  paintErr: ChalkInstance;
  /** The result: plans, reports, JSON documents. */
  out(text: string): void;
  /** Progress, errors and hints. */
  err(text: string): void;
  /** A JSON document on stdout. */
  json(value: unknown): void;
  /** Whether stdout is an interactive terminal. */
  interactive: boolean;
}

export interface OutputStreams {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown; isTTY?: boolean };
  env: Record<string, string | undefined>;
}

const defaultStreams = (): OutputStreams => ({ stdout: process.stdout, stderr: process.stderr, env: process.env });

export function colorAllowed(options: Record<string, unknown>, stream: { isTTY?: boolean }, env: Record<string, string | undefined>): boolean {
  // commander turns --no-color into color === false.
  return options['color'] !== false && !env['NO_COLOR'] && stream.isTTY === true;
}

export function createOutput(options: Record<string, unknown>, streams: OutputStreams = defaultStreams()): Output {
  const format = ((options['output'] as string | undefined) ?? 'text') as OutputFormat;
  const color = colorAllowed(options, streams.stdout, streams.env);
  const colorErr = colorAllowed(options, streams.stderr, streams.env);
  return {
    format,
    color,
    verbose: options['verbose'] === true,
    paint: new Chalk({ level: color ? 1 : 0 }),
    paintErr: new Chalk({ level: colorErr ? 1 : 0 }),
    out: (text) => void streams.stdout.write(text),
    err: (text) => void streams.stderr.write(text),
    json: (value) => void streams.stdout.write(JSON.stringify(value, null, 2) + '\n'),
    interactive: streams.stdout.isTTY === true,
  };
}

/** An output that collects what is written (tests, and presenters rendering to a string). */
export function memoryOutput(options: { format?: OutputFormat; color?: boolean; verbose?: boolean } = {}): Output & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const color = options.color ?? false;
  return {
    format: options.format ?? 'text',
    color,
    verbose: options.verbose ?? false,
    paint: new Chalk({ level: color ? 1 : 0 }),
    paintErr: new Chalk({ level: color ? 1 : 0 }),
    out: (text) => void stdout.push(text),
    err: (text) => void stderr.push(text),
    json: (value) => void stdout.push(JSON.stringify(value, null, 2) + '\n'),
    interactive: false,
    stdout,
    stderr,
  };
}
