// Public surface of the SPDY/3.1 layer.
export { SpdyConnection, type SpdyConnectionOptions, type SpdyConnectionEvents } from './connection.js';
export { SpdyStream, type SpdyStreamEvents } from './stream.js';
export { RstStatus, GoAwayStatus, SettingsId, SpdyProtocolError, type SpdyHeaders, type SpdyFrame } from './frames.js';
