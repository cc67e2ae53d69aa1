// Types for bin/node-version.js (plain JavaScript so that an old Node can run it).
export declare const ENGINES: string;
export declare function nodeTooOld(version: string, engines?: string): boolean;
export declare function nodeVersionProblem(what: string, hint: string): string | null;
