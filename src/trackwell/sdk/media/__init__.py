"""Rich values for ``log()`` (W&B's data types): ``Image``, ``Table``, ``Histogram``; numpy
arrays and lists logged as values become lists or histograms (``_convert``)."""

from trackwell.sdk.media._convert import MediaLogger
from trackwell.sdk.media._histogram import Histogram
from trackwell.sdk.media._image import Image
from trackwell.sdk.media._table import Table

__all__ = ["Histogram", "Image", "MediaLogger", "Table"]
