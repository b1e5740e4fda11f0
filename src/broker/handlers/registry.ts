/**
 * The handler registry: one handler per API key. ApiVersions answers from
 * here, so an API is advertised exactly when a handler is registered.
 */
import { codecFor } from '../../protocol/frames.ts';
import type { ApiVersionRange } from '../services.ts';
import type { Handler } from './types.ts';

export type { ApiVersionRange };

export class HandlerRegistry {
  private readonly byKey: (Handler | undefined)[] = [];

  register(h: Handler): void {
    const codec = codecFor(h.apiKey);
    if (!codec) throw new Error(`no codec for api key ${h.apiKey}`);
    if (this.byKey[h.apiKey]) throw new Error(`api key ${h.apiKey} registered twice`);
    if (h.minVersion < codec.minVersion || h.maxVersion > codec.maxVersion) {
      throw new Error(
        `${codec.name} handler versions ${h.minVersion}-${h.maxVersion} outside codec ${codec.minVersion}-${codec.maxVersion}`,
      );
    }
    this.byKey[h.apiKey] = h;
  }

  get(apiKey: number): Handler | undefined {
    return apiKey >= 0 ? this.byKey[apiKey] : undefined;
  }

  /** Every registered API with its supported versions, by api key. */
  versions(): ApiVersionRange[] {
    const out: ApiVersionRange[] = [];
    this.byKey.forEach((h, apiKey) => {
      if (h) out.push({ apiKey, minVersion: h.minVersion, maxVersion: h.maxVersion });
    });
    return out;
  }
}
