// HEADER index
export { LINUX_TCP_DEFAULTS, type CaState, type TcpConfig, type TcpCounters, type TcpSocketOptions, type TcpState } from './config.js';
export { TcpLayer, TcpListener } from './layer.js';
export { TcpSocket } from './socket.js';
export { modelTimeout } from './timers.js';
export type { CongestionAlgorithm } from './cc.js';
