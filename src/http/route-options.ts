import type { Services } from '../services.js';

/** What every route plugin (BAPI, FAPI, callbacks, metrics) is registered with. */
export interface RouteOptions {
  services: Services;
}
