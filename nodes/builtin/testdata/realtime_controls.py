#!/usr/bin/env python3
"""Reference values of the ComfyUI_RealTimeNodes value controllers.

Writes realtime_controls.json: for each deterministic movement pattern, the
first 40 outputs of FloatControl (min -2, max 3, start 0.25, 7 steps per
cycle), IntControl (min -10, max 90, start 5, 7 steps per cycle) and the
StringControl index over 5 lines (6 steps per cycle), computed with the
pack's published formulas (patterns/movement_patterns.py,
controls/value_controls.py of ryanontheinside/ComfyUI_RealTimeNodes):
one step per execution, phase = (phase + 1/steps) % 1, Python's round.
Run: python3 realtime_controls.py > realtime_controls.json
"""
import json
import math

def pattern(name, phase, lo, hi):
    span = hi - lo
    if name == "static":
        return lo
    if name == "sine":
        amp = span / 2
        return lo + amp + amp * math.sin(2 * math.pi * phase)
    if name == "triangle":
        return lo + span * (2 * phase) if phase < 0.5 else hi - span * (2 * (phase - 0.5))
    if name == "sawtooth":
        return lo + span * phase
    if name == "square":
        return hi if phase < 0.5 else lo
    if name == "bounce":
        return lo + span * abs(math.sin(math.pi * phase))
    if name == "exponential":
        return lo + span * ((math.exp(4 * phase) - 1) / (math.exp(4) - 1))
    if name == "logarithmic":
        return lo + span * (math.log(1 + 99 * phase) / math.log(100))
    if name == "pulse":
        return lo + span * math.exp(-10 * ((phase - 0.5) ** 2))
    if name == "smooth_noise":
        t = phase * 10
        n = (math.sin(t) + math.sin(2.2 * t + 5.52) + math.sin(3.6 * t + 4.12)) / 3
        return lo + span * (n + 1) / 2
    raise ValueError(name)

def value_control(name, lo, hi, start, steps, n):
    out, phase = [start], 0.0
    for _ in range(n - 1):
        phase = (phase + 1 / steps) % 1.0
        out.append(pattern(name, phase, lo, hi))
    return out

def string_index(name, count, steps, n):
    out, phase = [], 0.0
    for _ in range(n):
        phase = (phase + 1 / steps) % 1.0
        out.append(int(round(pattern(name, phase, 0, count - 1))) % count)
    return out

names = ["static", "sine", "triangle", "sawtooth", "square", "bounce", "exponential", "logarithmic", "pulse", "smooth_noise"]
ref = {}
for name in names:
    ref[name] = {
        "float": value_control(name, -2.0, 3.0, 0.25, 7, 40),
        "int": [int(round(v)) for v in value_control(name, -10.0, 90.0, 5.0, 7, 40)],
        "string": string_index(name, 5, 6, 40),
    }
print(json.dumps(ref, indent=1))
