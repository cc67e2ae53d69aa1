// Counts the round trips on a run's critical path, as seen by the proxies in front of the servers:
// a request sent after some reply arrived may have waited for it, so it is one round trip deeper
// than the deepest reply seen so far. The deepest request is the longest chain of calls that ran
// one after another — at a fixed latency, what the run's wall time is made of. Requests waiting
// for a free slot under a concurrency bound count as a chain too: they do cost a round trip each.

export interface RoundTripTracker {
  /** A request leaves the client; returns its depth. */
  begin(): number;
  /** Its reply reached the client. */
  end(depth: number): void;
  /** The deepest chain since the last reset. */
  depth(): number;
  /** Requests since the last reset. */
  requests(): number;
  reset(): void;
}

export function createRoundTripTracker(): RoundTripTracker {
  let completed = 0;
  let deepest = 0;
  let count = 0;
  return {
    begin() {
      count++;
      const depth = completed + 1;
      deepest = Math.max(deepest, depth);
      return depth;
    },
    end(depth) {
      completed = Math.max(completed, depth);
    },
    depth: () => deepest,
    requests: () => count,
    reset() {
      completed = 0;
      deepest = 0;
      count = 0;
    },
  };
}
