// media.js: decoding what the session host streams.
//
// /capture frames are the simulator's test-pattern format (docs/sim.md, tools/sim/test_pattern.hpp), all
// integers little-endian:
//   0 "WSIM" · 4 u16 version · 6 u16 header size · 8 u64 frame counter · 16 u64 sender time (ms since epoch)
//   24 u16 width · 26 u16 height · 28 u32 total size · then width*height RGBA pixels (then padding).
// /audio messages are 16-bit signed little-endian mono PCM at 48 kHz.

const MAGIC = [0x57, 0x53, 0x49, 0x4d]; // "WSIM"
const MIN_HEADER_BYTES = 32;
export const AUDIO_SAMPLE_RATE = 48000;

// → {counter, timestampMs, width, height, pixels: Uint8ClampedArray (a view, no copy)} or null when the
// message is not a frame in this format.
export function parseFrame(buffer) {
  if (!(buffer instanceof ArrayBuffer) || buffer.byteLength < MIN_HEADER_BYTES) return null;
  const bytes = new Uint8Array(buffer, 0, 4);
  for (let i = 0; i < 4; i += 1) if (bytes[i] !== MAGIC[i]) return null;
  const view = new DataView(buffer);
  const headerBytes = view.getUint16(6, true);
  const width = view.getUint16(24, true);
  const height = view.getUint16(26, true);
  const total = view.getUint32(28, true);
  const pixelBytes = width * height * 4;
  if (headerBytes < MIN_HEADER_BYTES || width === 0 || height === 0) return null;
  if (total !== buffer.byteLength || headerBytes + pixelBytes > buffer.byteLength) return null;
  return {
    version: view.getUint16(4, true),
    counter: Number(view.getBigUint64(8, true)),
    timestampMs: Number(view.getBigUint64(16, true)),
    width,
    height,
    pixels: new Uint8ClampedArray(buffer, headerBytes, pixelBytes),
  };
}

// Plays /audio PCM through Web Audio once the user turns sound on (browsers allow audio only after a
// gesture). Chunks are scheduled back to back; if playback falls behind by more than 250 ms it restarts
// from now rather than building up delay.
export class AudioPlayer {
  constructor() {
    this.on = false;
    this.context = null;
    this.nextTime = 0;
  }

  toggle() {
    this.on = !this.on;
    if (this.on) {
      if (!this.context) {
        const Context = window.AudioContext || window.webkitAudioContext;
        if (!Context) {
          this.on = false;
          return false;
        }
        this.context = new Context({ sampleRate: AUDIO_SAMPLE_RATE });
      }
      this.context.resume();
      this.nextTime = 0;
    } else if (this.context) {
      this.context.suspend();
    }
    return this.on;
  }

  push(buffer) {
    if (!this.on || !this.context || buffer.byteLength < 2) return;
    const samples = new Int16Array(buffer, 0, buffer.byteLength >> 1);
    const audio = this.context.createBuffer(1, samples.length, AUDIO_SAMPLE_RATE);
    const channel = audio.getChannelData(0);
    for (let i = 0; i < samples.length; i += 1) channel[i] = samples[i] / 32768;
    const source = this.context.createBufferSource();
    source.buffer = audio;
    source.connect(this.context.destination);
    const now = this.context.currentTime;
    if (this.nextTime < now || this.nextTime - now > 0.25) this.nextTime = now + 0.05;
    source.start(this.nextTime);
    this.nextTime += audio.duration;
  }

  stop() {
    this.on = false;
    if (this.context) {
      this.context.close();
      this.context = null;
    }
  }
}
