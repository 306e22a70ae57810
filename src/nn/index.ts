/** The Q-network engine: network, training (Adam, worker threads), FFT. */
export { QNetwork, validateSpec, DEFAULT_LEAKY_SLOPE, type QNetworkSpec, type GridShape } from './network.js';
export { Trainer, type TrainSample, type AdamOptions, LOSS_FORMS, type LossForm } from './train.js';
export { planFFT, paddedLength, type VectorFFT } from './fft.js';
