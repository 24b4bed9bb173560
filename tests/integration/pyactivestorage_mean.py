"""PyActiveStorage computes means through an active storage server (run in PyActiveStorage's venv).

Writes a chunked, compressed, shuffled netCDF4 variable with a missing value, uploads it to S3 and
asks PyActiveStorage (unmodified; it speaks the Reductionist v2 API) for the mean of the whole
variable and of a slab, and for min/max, through the server at --active-url. Prints one JSON object:
what PyActiveStorage returned next to numpy's answer on the same data.
"""

import argparse
import json
import os
import tempfile

import netCDF4
import numpy as np
import s3fs
from activestorage.active import Active


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--endpoint", required=True)
    p.add_argument("--bucket", required=True)
    p.add_argument("--access-key", required=True)
    p.add_argument("--secret-key", required=True)
    p.add_argument("--active-url", required=True)
    p.add_argument("--key", default="pyactivestorage/tas.nc")
    a = p.parse_args()

    options = {"key": a.access_key, "secret": a.secret_key, "client_kwargs": {"endpoint_url": a.endpoint}}
    rng = np.random.default_rng(3)
    data = rng.normal(280.0, 15.0, size=(12, 40, 60)).astype(np.float32)
    missing = np.float32(-999.0)
    data[rng.random(data.shape) < 0.05] = missing
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "tas.nc")
        with netCDF4.Dataset(path, "w") as ds:
            ds.createDimension("time", 12)
            ds.createDimension("lat", 40)
            ds.createDimension("lon", 60)
            v = ds.createVariable("tas", "f4", ("time", "lat", "lon"), zlib=True, shuffle=True,
                                  chunksizes=(4, 20, 30), fill_value=missing)
            v.missing_value = missing
            v[:] = data
        # s3fs: PyActiveStorage's own S3 client (boto3 would conflict with its aiobotocore pin).
        s3fs.S3FileSystem(**options).put(path, f"{a.bucket}/{a.key}")
    masked = np.ma.masked_equal(data, missing)

    def active(method):
        act = Active(f"s3://{a.bucket}/{a.key}", "tas", interface_type="s3", storage_options=options,
                     active_storage_url=a.active_url)
        act._version = 2
        act.method = method
        return act

    out = {
        "mean_all": float(np.asarray(active("mean")[:]).ravel()[0]),
        "mean_all_numpy": float(masked.mean(dtype=np.float64)),
        "mean_slab": float(np.asarray(active("mean")[2:7, 5:33, 10:50]).ravel()[0]),
        "mean_slab_numpy": float(masked[2:7, 5:33, 10:50].mean(dtype=np.float64)),
        "min_all": float(np.asarray(active("min")[:]).ravel()[0]),
        "min_all_numpy": float(masked.min()),
        "max_all": float(np.asarray(active("max")[:]).ravel()[0]),
        "max_all_numpy": float(masked.max()),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
