"""Rich values for ``log()`` (W&B's data types): ``Image``, ``Table``, ``Histogram``, ``Audio``,
``Video``, ``Html``, ``Object3D``; numpy
arrays and lists logged as values become lists or histograms (``_convert``)."""

from trackwell.sdk.media._convert import MediaLogger
from trackwell.sdk.media._files import Audio, Html, Object3D, Video
from trackwell.sdk.media._histogram import Histogram
from trackwell.sdk.media._image import Image
from trackwell.sdk.media._table import Table

__all__ = ["Audio", "Histogram", "Html", "Image", "MediaLogger", "Object3D", "Table", "Video"]
