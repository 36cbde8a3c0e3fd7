"""Deterministic randomness keyed by what it is about, not by the order it is drawn in.

Two kinds: `rng_for(seed, stream, *keys)` gives a numpy Generator for drawing one thing's fixed
properties (a home, a sensor); `hashed_uniform(seed, stream, *keys)` maps integer arrays (sensor
key, reading counter, day number...) to uniforms through the SplitMix64 finaliser (Steele et al.
2014, "Fast splittable pseudorandom number generators"). The second is counter-based: the value
for reading k of sensor s does not depend on which window or batch computed it, so a run split
into history and live, or into batches of homes, gives exactly the readings of a single pass.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

# One number per kind of draw, so that two draws about the same thing never coincide.
STREAM_ESTATE = 1
STREAM_HOME = 2
STREAM_SENSOR = 3
STREAM_WEATHER = 4
STREAM_JITTER = 5
STREAM_NOISE_T = 6
STREAM_NOISE_RH = 7
STREAM_OFFLINE = 8
STREAM_DUPLICATE = 9
STREAM_FAULT = 10
STREAM_WEATHER_BOROUGH = 11
STREAM_FORMAT = 12

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)

UInt64Array = npt.NDArray[np.uint64]
FloatArray = npt.NDArray[np.float64]


def rng_for(seed: int, stream: int, *keys: int) -> np.random.Generator:
    """A generator for one thing's fixed properties; same arguments, same draws."""
    return np.random.default_rng([seed & 0xFFFFFFFF, seed >> 32, stream, *keys])


def _mix(x: UInt64Array) -> UInt64Array:
    # SplitMix64 finaliser; uint64 arithmetic wraps modulo 2**64 as intended.
    z = x + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def hashed_bits(seed: int, stream: int, *keys: npt.ArrayLike) -> UInt64Array:
    """64 well-mixed bits for each element of the broadcast integer keys."""
    arrays = [np.atleast_1d(np.asarray(k)).astype(np.int64).view(np.uint64) for k in keys]
    shape = np.broadcast_shapes(*(a.shape for a in arrays)) if arrays else (1,)
    state = np.full(shape, np.uint64(seed & 0xFFFFFFFFFFFFFFFF), dtype=np.uint64)
    state = _mix(state ^ np.uint64(stream))
    for a in arrays:
        state = _mix(state ^ a)
    return state


def hashed_uniform(seed: int, stream: int, *keys: npt.ArrayLike) -> FloatArray:
    """Uniforms in [0, 1) for each element of the broadcast integer keys."""
    bits = hashed_bits(seed, stream, *keys) >> np.uint64(11)
    return bits.astype(np.float64) * (1.0 / 9007199254740992.0)


def hashed_normal(seed: int, stream: int, *keys: npt.ArrayLike) -> FloatArray:
    """Standard normals for each element of the broadcast keys (Box-Muller on two hashes)."""
    u1 = hashed_uniform(seed, stream, *keys, 1)
    u2 = hashed_uniform(seed, stream, *keys, 2)
    radius = np.sqrt(-2.0 * np.log1p(-u1))
    result: FloatArray = radius * np.cos(2.0 * np.pi * u2)
    return result


def stable_key(text: str) -> int:
    """A 63-bit integer key for a string (sensor ids), stable across processes."""
    import hashlib

    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1
