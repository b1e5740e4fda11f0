/** Registers every handler. One file per API key; add new ones here. */
import { produceHandler } from './00-produce.ts';
import { fetchHandler } from './01-fetch.ts';
import { metadataHandler } from './03-metadata.ts';
import { apiVersionsHandler } from './18-api-versions.ts';
import { initProducerIdHandler } from './22-init-producer-id.ts';
import { createTopicsHandler } from './19-create-topics.ts';
import type { HandlerRegistry } from './registry.ts';
import type { Handler } from './types.ts';

export const ALL_HANDLERS: Handler[] = [metadataHandler, apiVersionsHandler, fetchHandler, produceHandler, initProducerIdHandler, createTopicsHandler];

export function registerAllHandlers(registry: HandlerRegistry): void {
  for (const h of ALL_HANDLERS) registry.register(h);
}
