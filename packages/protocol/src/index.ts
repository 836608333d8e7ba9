export * from './constants.js';
export * from './topics.js';
export * from './udp.js';
export * from './schemas.js';
export * from './validate.js';
export * from './http.js';
export * from './stamp.js';
export * from './mqtt-errors.js';
