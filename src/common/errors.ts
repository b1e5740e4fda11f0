/**
 * Local (non-Kafka) errors. Every error Samsa raises itself carries a stable
 * `SAMSA_ERR_*` code and a message that says what to do about it.
 */
export class SamsaError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SamsaError';
    this.code = code;
  }
}
