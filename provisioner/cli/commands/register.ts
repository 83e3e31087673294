import type { Command } from "commander";

/** Wraps an action: its returned number (or 0) becomes the exit code; a thrown error is mapped by main. */
export type Run = <A extends unknown[]>(fn: (...args: A) => Promise<number | void>) => (...args: A) => Promise<void>;

export type Register = (program: Command, run: Run) => void;
