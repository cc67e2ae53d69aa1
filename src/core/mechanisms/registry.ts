// Every binding mechanism, one line each (core/mechanisms/types.ts says what one is).

import { irsaMechanism } from './irsa.ts';
import { podIdentityMechanism } from './pod-identity.ts';
import type { MechanismRegistry } from './types.ts';

export const MECHANISMS: MechanismRegistry = {
  irsa: irsaMechanism,
  'pod-identity': podIdentityMechanism,
};
