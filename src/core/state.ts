// The observed-state types moved to core/model/observed.ts (the base model every feature module
// depends on); this module keeps the old import path working.

export type * from './model/observed.ts';
