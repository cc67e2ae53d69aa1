// Every binding mechanism, one line each (core/mechanisms/types.ts says what one is).

import { irsaMechanism } from './irsa.ts';
import type { MechanismRegistry } from './types.ts';

export const MECHANISMS: MechanismRegistry = {
  irsa: irsaMechanism,
};
