"""Prints the zarr-python fixtures embedded in src/zarr/codec_test.cc.

Writes small arrays with each codec chain to an in-memory store and dumps the metadata's codec
list and the raw chunk bytes as C++ constants. Run with the project venv (zarr 3.1.6, numcodecs
0.16):
    ~/.cache/nimbus/venv-py3.11/bin/python src/zarr/codecs/make_codec_fixtures.py
gzip output carries a timestamp, so its bytes change from run to run; the rest are stable.
"""
import asyncio
import json

import numpy as np
import zarr
from zarr.codecs import (BloscCodec, BytesCodec, Crc32cCodec, GzipCodec, ShardingCodec,
                         TransposeCodec, ZstdCodec)
from zarr.core.buffer import default_buffer_prototype
from zarr.storage import MemoryStore


async def _dump(store):
    out = {}
    async for key in store.list():
        buf = await store.get(key, prototype=default_buffer_prototype())
        out[key] = buf.to_bytes()
    return out


def emit(name, data, chunks, **kwargs):
    store = MemoryStore()
    array = zarr.create_array(store, shape=data.shape, chunks=chunks,
                              dtype=kwargs.pop("dtype", data.dtype), **kwargs)
    array[...] = data
    objects = asyncio.run(_dump(store))
    meta = json.loads(objects.pop("zarr.json"))
    fixture = {"data_type": meta["data_type"], "fill_value": meta["fill_value"],
               "chunk_shape": meta["chunk_grid"]["configuration"]["chunk_shape"],
               "codecs": meta["codecs"]}
    print(f"// {name}: shape {list(data.shape)}")
    print(f"constexpr std::string_view k_{name}_meta =\n"
          f"    R\"({json.dumps(fixture, ensure_ascii=False)})\";")
    for key in sorted(objects):
        hex_bytes = objects[key].hex()
        lines = "\n".join(f'    "{hex_bytes[i:i + 88]}"' for i in range(0, len(hex_bytes), 88))
        print(f"constexpr std::string_view k_{name}_{key.replace('/', '_')} =\n{lines};")


def main():
    emit("bytes_int16", (np.arange(20, dtype="int16") - 7).reshape(4, 5), (4, 5),
         compressors=None)
    emit("bytes_big_float64", np.linspace(-1.5, 2.5, 6).reshape(2, 3), (2, 3),
         serializer=BytesCodec(endian="big"), compressors=None)
    emit("gzip_int32", (np.arange(12, dtype="int32") * 1000 - 5000).reshape(3, 4), (3, 4),
         compressors=GzipCodec(level=5))
    emit("zstd_float32", (np.arange(24, dtype="float32") / 4).reshape(4, 6), (4, 6),
         compressors=ZstdCodec(level=3, checksum=True))
    emit("blosc_shuffle_uint16", np.arange(64, dtype="uint16").reshape(8, 8) * 3, (8, 8),
         compressors=BloscCodec(cname="zstd", clevel=5, shuffle="shuffle"))
    emit("blosc_bitshuffle_lz4_float32", np.sin(np.arange(32, dtype="float32")).reshape(4, 8),
         (4, 8), compressors=BloscCodec(cname="lz4", clevel=5, shuffle="bitshuffle"))
    emit("crc32c_uint8", np.arange(10, dtype="uint8"), (10,), compressors=Crc32cCodec())
    sharded = np.arange(64, dtype="int32").reshape(8, 8) + 1
    sharded[0:4, 4:8] = 0  # an all-fill inner chunk: omitted from the shard
    emit("sharded_end_int32", sharded, (4, 4), shards=(8, 8), compressors=None, fill_value=0)
    start = np.arange(16, dtype="uint16").reshape(4, 4) + 100
    start[2:4, 0:2] = 7
    emit("sharded_start_uint16", start, (4, 4),
         serializer=ShardingCodec(chunk_shape=(2, 2), codecs=[BytesCodec(), ZstdCodec(level=1)],
                                  index_location="start"),
         compressors=None, fill_value=7)
    emit("vlen_utf8", np.array(["a", "", "héllo", "日本語", "xyz", "ok"], dtype=object).reshape(2, 3),
         (2, 3), dtype=str, compressors=None)
    emit("vlen_utf8_zstd", np.array(["alpha", "beta", "", "gamma"], dtype=object), (4,), dtype=str)
    emit("vlen_bytes", np.array([b"\x00\x01", b"", b"abc"], dtype=object), (3,),
         dtype=zarr.dtype.VariableLengthBytes(), compressors=None)
    emit("transpose_int16", np.arange(24, dtype="int16").reshape(2, 3, 4), (2, 3, 4),
         filters=TransposeCodec(order=(2, 0, 1)), compressors=None)
    emit("complex64_big", np.array([1 + 2j, -3.5 + 0.25j, 0j, 1e10 - 1j], dtype="complex64"),
         (4,), serializer=BytesCodec(endian="big"), compressors=None)
    emit("utf32_big", np.array(["ab", "xyz", "", "q"], dtype="U3"), (4,),
         serializer=BytesCodec(endian="big"), compressors=None)


if __name__ == "__main__":
    main()
