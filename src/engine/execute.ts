// Apply's executor: the registry of one executor per resource kind lives in engine/executors/.
// This module keeps the entry point callers import.

export { createExecutor, EXECUTORS, metadataPatch, StaleChangeError, type ExecuteOutcome, type Executor, type ExecutorContext, type ExecutorDeps } from './executors/index.ts';
