"""Media in history against a real server: Image (numpy, PIL, file), Table (rows, DataFrame,
image cells), Histogram, and numpy arrays / lists logged as plain values (kept, or a histogram)."""

from __future__ import annotations

import io
import json
import warnings
import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image as PILImage
from servers import LiveServer

import trackwell
from trackwell.sdk.media import MediaLogger
from trackwell.sdk.media._histogram import Histogram


def test_histogram_bins_like_numpy() -> None:
    data = np.random.default_rng(0).normal(size=1000)
    ours = Histogram(data, num_bins=20)
    counts, edges = np.histogram(data, bins=20)
    assert ours.histogram == counts.tolist() and ours.bins == pytest.approx(edges.tolist())
    assert Histogram(np_histogram=(counts, edges)).to_json()["values"] == counts.tolist()
    single_counts, single_edges = np.histogram([3.0, 3.0], bins=64)
    assert Histogram([3.0, 3.0]).to_json() == {"_type": "histogram", "values": single_counts.tolist(),
                                               "bins": pytest.approx(single_edges.tolist())}
    with pytest.raises(ValueError, match="1 to 512 bins"):
        Histogram([1], num_bins=0)
    with pytest.raises(ValueError, match="one more than counts"):
        Histogram(np_histogram=([1, 2], [0, 1]))


def test_sequences_and_arrays_as_values(tmp_path: Path) -> None:
    staged: list[str] = []
    media = MediaLogger(tmp_path, lambda name, digest, size: staged.append(name))
    assert media("k", [1, 2, 3]) == (True, [1, 2, 3])
    assert media("k", np.arange(6).reshape(2, 3)) == (True, [[0, 1, 2], [3, 4, 5]])
    ok, hist = media("k", np.arange(1000.0))
    assert ok and hist["_type"] == "histogram" and sum(hist["values"]) == 1000 and len(hist["values"]) == 64
    assert media("k", ["a", "b"]) == (True, ["a", "b"])
    assert media("k", [object()]) == (False, None)
    assert staged == []


def test_media_logged_and_read_back(live_server: LiveServer, tmp_path: Path) -> None:
    run = trackwell.init(project="media", dir=tmp_path, reinit=True,
                         settings={"quiet": True, "console": "off", "base_url": live_server.url})
    pixels = (np.arange(24 * 32 * 3) % 255).astype(np.uint8).reshape(24, 32, 3)
    PILImage.fromarray(pixels).save(tmp_path / "photo.png")
    table = trackwell.Table(columns=["id", "label", "img"])
    table.add_data(1, "cat", trackwell.Image(pixels))
    table.add_data(2, "dog", trackwell.Image(np.zeros((4, 4))))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing here is unsupported: no warning
        run.log({"img": trackwell.Image(pixels, caption="first"), "grad": trackwell.Histogram([1, 2, 2, 3]),
                 "preds": table, "weights": np.linspace(0, 1, 100), "few": [0.5, 0.25],
                 "samples": [trackwell.Image(np.ones((2, 2)) * 0.5), trackwell.Image(tmp_path / "photo.png")],
                 "gray": trackwell.Image(PILImage.new("L", (5, 3), 128), file_type="jpg"),
                 "sound": trackwell.Audio(np.sin(np.linspace(0, 100, 8000)), sample_rate=8000, caption="tone"),
                 "clip": trackwell.Video((np.arange(3 * 3 * 8 * 8) % 255).reshape(3, 3, 8, 8).astype(np.uint8), fps=2),
                 "page": trackwell.Html("<b>bold</b>"),
                 "cloud": trackwell.Object3D(np.arange(12.0).reshape(4, 3))})
    run.finish()

    api_run = trackwell.Api(base_url=live_server.url).run(f"{live_server.entity}/media/{run.id}")
    row: dict[str, Any] = next(iter(api_run.scan_history()))
    assert row["img"]["_type"] == "image-file" and (row["img"]["width"], row["img"]["height"]) == (32, 24)
    assert row["img"]["path"].startswith("media/images/img/") and row["img"]["caption"] == "first"
    image = api_run.media(row["img"])
    assert np.array_equal(np.asarray(image.to_pil()), pixels) and image.caption == "first"
    assert api_run.media(row["grad"]).histogram == [1, 0] + [0] * 30 + [2] + [0] * 30 + [1]
    assert row["weights"]["_type"] == "histogram" and sum(row["weights"]["values"]) == 100
    assert row["few"] == [0.5, 0.25]
    opened = api_run.media(row["preds"])
    assert opened.columns == ["id", "label", "img"] and [r[:2] for r in opened.data] == [[1, "cat"], [2, "dog"]]
    assert np.array_equal(np.asarray(opened.data[0][2].to_pil()), pixels)
    frame = opened.get_dataframe()
    assert list(frame["label"]) == ["cat", "dog"]
    samples = api_run.media(row["samples"])
    assert [s.width for s in samples] == [2, 32]
    assert np.asarray(samples[0].to_pil()).max() == 127  # floats in [0, 1] scaled to 0..255
    assert samples[1].bytes == (tmp_path / "photo.png").read_bytes()  # a PNG file is stored as it is
    assert row["gray"]["format"] == "jpg" and api_run.media(row["gray"]).to_pil().format == "JPEG"
    assert (row["sound"]["_type"], row["sound"]["sample_rate"], row["sound"]["caption"]) == ("audio-file", 8000, "tone")
    with wave.open(io.BytesIO(api_run.media(row["sound"]))) as w:
        assert (w.getframerate(), w.getnframes(), w.getsampwidth()) == (8000, 8000, 2)
    clip = PILImage.open(io.BytesIO(api_run.media(row["clip"])))
    assert (clip.format, clip.n_frames, clip.size, row["clip"]["fps"]) == ("GIF", 3, (8, 8), 2)
    assert b"<b>bold</b>" in api_run.media(row["page"]) and row["page"]["path"].endswith(".html")
    assert json.loads(api_run.media(row["cloud"])) == np.arange(12.0).reshape(4, 3).tolist()
    names = {f.name for f in api_run.files()}
    assert {row["img"]["path"], row["preds"]["path"]} <= names and all(f.uploaded for f in api_run.files())


def test_dataframe_table_and_unsupported_still_warn(live_server: LiveServer, tmp_path: Path) -> None:
    import pandas as pd

    table = trackwell.Table(dataframe=pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}))
    assert table.columns == ["a", "b"] and table.data == [[1, "x"], [2, "y"]]
    with pytest.raises(ValueError, match="2 values for 3 columns"):
        trackwell.Table(columns=["a", "b", "c"]).add_data(1, 2)
    run = trackwell.init(project="media", dir=tmp_path, reinit=True, mode="offline",
                         settings={"quiet": True, "console": "off"})
    with pytest.warns(UserWarning, match="key 'thing'"):
        run.log({"thing": object(), "t": table})
    run.finish()
