/** Samsa's public entry point. */
export { Broker, type BrokerOptions } from './broker/broker.ts';
export { type StartBrokerOptions, startBroker, type TestBroker } from './testing/index.ts';
