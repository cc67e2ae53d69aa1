// Counts the round trips on a run's critical path, as seen by the proxies in front of the servers:
// a request sent after some reply arrived may have waited for it, so it is one round trip deeper
// than the deepest reply seen so far. The deepest request is the longest chain of calls that ran
// one after another — at a fixed latency, what the run's wall time is made of. Requests waiting
// for a free slot under a concurrency bound count as a chain too: they do cost a round trip each.

export interface RoundTripTracker {
  /** A request leaves the client (labelled for the trace, e.g. its AWS operation); returns its handle. */
  begin(label?: string): number;
  /** Its reply reached the client. */
  end(handle: number): void;
  /** The deepest chain since the last reset. */
  depth(): number;
  /** Requests since the last reset. */
  requests(): number;
  /**
   * The deepest chain, first request first: each one began after the reply of the one before it
   * arrived (the reply that made it one deeper). What a run's critical path is made of.
   */
  criticalPath(): string[];
  reset(): void;
}

interface Entry {
  label: string;
  depth: number;
  /** The request whose reply was the deepest one in when this one began. */
  after: number | null;
}

export function createRoundTripTracker(): RoundTripTracker {
  let entries: Entry[] = [];
  let completed = 0;
  let completedBy: number | null = null;
  let deepest = 0;
  let deepestAt: number | null = null;
  return {
    begin(label = '?') {
      const depth = completed + 1;
      entries.push({ label, depth, after: completedBy });
      const handle = entries.length - 1;
      if (depth > deepest) {
        deepest = depth;
        deepestAt = handle;
      }
      return handle;
    },
    end(handle) {
      const entry = entries[handle];
      if (!entry) return; // begun before a reset
      if (entry.depth > completed) {
        completed = entry.depth;
        completedBy = handle;
      }
    },
    depth: () => deepest,
    requests: () => entries.length,
    criticalPath() {
      const path: string[] = [];
      for (let at = deepestAt; at !== null; at = entries[at]!.after) path.unshift(entries[at]!.label);
      return path;
    },
    reset() {
      entries = [];
      completed = 0;
      completedBy = null;
      deepest = 0;
      deepestAt = null;
    },
  };
}
