#!/usr/bin/env python3
"""Reference values for comfyrt's PitchShifter kernel (nodes/builtin).

ComfyStream's PitchShifter calls librosa.effects.pitch_shift(y, sr, n_steps).
librosa is not installed here, so this script writes that algorithm in numpy
from librosa's documentation (0.10, default arguments):

  rate     = 2 ** (-n_steps / 12)
  stretch  = istft(phase_vocoder(stft(y), rate), length=round(len(y) / rate))
  shifted  = resample(stretch, orig_sr=sr / rate, target_sr=sr)
  result   = shifted cut or zero-padded to len(y)

stft: n_fft 2048, hop 512, periodic Hann window, centred (zero padding of
n_fft/2 on both sides). phase_vocoder: librosa's (linear magnitude
interpolation, phase accumulation). istft: overlap-add of the windowed
inverse frames divided by the summed squared window. resample: the FFT
method (librosa res_type="fft", i.e. scipy.signal.resample), written out
here with numpy's FFT and checked against scipy.signal.resample; librosa's
default is soxr "HQ" (see the Go doc).

Usage: /usr/bin/python3 scripts/reference/pitchshift.py [OUTDIR]
(default nodes/builtin/testdata/pitchshift). Writes, per case, NAME.in.f32
and NAME.out.f32 (float32 little endian) and cases.json.
"""
import json
import os
import sys

import numpy as np
import scipy.signal

N_FFT = 2048
HOP = N_FFT // 4


def hann(n):
    return scipy.signal.get_window("hann", n, fftbins=True)


def stft(y):
    pad = np.pad(y, (N_FFT // 2, N_FFT // 2))
    frames = 1 + (len(pad) - N_FFT) // HOP
    w = hann(N_FFT)
    return np.stack([np.fft.rfft(w * pad[t * HOP:t * HOP + N_FFT]) for t in range(frames)], axis=1)


def phase_vocoder(d, rate):
    steps = np.arange(0, d.shape[1], rate, dtype=np.float64)
    out = np.zeros((d.shape[0], len(steps)), dtype=np.complex128)
    adv = np.linspace(0, np.pi * HOP, d.shape[0])
    acc = np.angle(d[:, 0])
    d = np.pad(d, [(0, 0), (0, 2)])
    for t, step in enumerate(steps):
        c0, c1 = d[:, int(step)], d[:, int(step) + 1]
        alpha = np.mod(step, 1.0)
        mag = (1.0 - alpha) * np.abs(c0) + alpha * np.abs(c1)
        out[:, t] = mag * np.exp(1j * acc)
        dp = np.angle(c1) - np.angle(c0) - adv
        dp = dp - 2.0 * np.pi * np.round(dp / (2.0 * np.pi))
        acc = acc + adv + dp
    return out


def istft(d, length):
    frames = min(d.shape[1], int(np.ceil((length + 2 * (N_FFT // 2)) / HOP)))
    w = hann(N_FFT)
    n = N_FFT + HOP * (frames - 1)
    ola, wss = np.zeros(n), np.zeros(n)
    for t in range(frames):
        ola[t * HOP:t * HOP + N_FFT] += w * np.fft.irfft(d[:, t], n=N_FFT)
        wss[t * HOP:t * HOP + N_FFT] += w * w
    y = np.zeros(length)
    m = min(length, n - N_FFT // 2)
    y[:m] = ola[N_FFT // 2:N_FFT // 2 + m]
    s = wss[N_FFT // 2:N_FFT // 2 + m]
    nz = s > np.finfo(np.float32).tiny
    y[:m][nz] /= s[nz]
    return y


def resample_fft(x, num):
    """scipy.signal.resample, written out; main checks the two agree."""
    nx = len(x)
    X = np.fft.rfft(x)
    Y = np.zeros(num // 2 + 1, dtype=np.complex128)
    n = min(num, nx)
    nyq = n // 2 + 1
    Y[:nyq] = X[:nyq]
    if n % 2 == 0:
        if num < nx:
            Y[n // 2] *= 2.0
        elif nx < num:
            Y[n // 2] *= 0.5
    return np.fft.irfft(Y, num) * (float(num) / float(nx))


def pitch_shift(y, sr, n_steps):
    rate = 2.0 ** (-float(n_steps) / 12)
    stretched = istft(phase_vocoder(stft(y), rate), int(round(len(y) / rate)))
    orig = float(sr) / rate
    if orig != sr:
        num = int(np.ceil(len(stretched) * (float(sr) / orig)))
        ref = scipy.signal.resample(stretched, num)
        stretched = resample_fft(stretched, num)
        assert np.max(np.abs(ref - stretched)) < 1e-9, "resample_fft differs from scipy.signal.resample"
    out = np.zeros(len(y))
    m = min(len(y), len(stretched))
    out[:m] = stretched[:m]
    return out


def signal(name, sr, n):
    t = np.arange(n) / sr
    rng = np.random.default_rng(sum(map(ord, name)))
    y = 0.4 * np.sin(2 * np.pi * 440 * t) + 0.2 * np.sin(2 * np.pi * 1234.5 * t + 0.3)
    y += 0.05 * rng.standard_normal(n)
    return y.astype(np.float32)


CASES = [
    # name, sample rate, semitones, samples
    ("default-250ms", 48000, 4.0, 12000),
    ("octave", 48000, 12.0, 4800),
    ("zero", 48000, 0.0, 4800),
    ("half-step-44k", 44100, 7.5, 11025),
    ("short", 48000, 0.5, 1000),
]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "nodes/builtin/testdata/pitchshift"
    os.makedirs(out, exist_ok=True)
    meta = []
    for name, sr, steps, n in CASES:
        x = signal(name, sr, n)
        y = pitch_shift(x.astype(np.float64), sr, steps)
        x.astype("<f4").tofile(os.path.join(out, name + ".in.f32"))
        y.astype("<f4").tofile(os.path.join(out, name + ".out.f32"))
        meta.append({"name": name, "rate": sr, "steps": steps, "samples": n})
    with open(os.path.join(out, "cases.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
