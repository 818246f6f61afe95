"""Run files on the client: ``run.save`` (policies live/now/end), staging with SHA-256, and the
uploader thread that sends staged bytes (``trackwell sync`` sends what it left)."""

from trackwell.sdk.files._run import RunFiles
from trackwell.sdk.files._saver import POLICIES, FileSaver
from trackwell.sdk.files._stage import pending, stage, stage_bytes, staged_dir
from trackwell.sdk.files._uploader import FileUploader, upload_pending

__all__ = ["POLICIES", "FileSaver", "FileUploader", "RunFiles", "pending", "stage", "stage_bytes", "staged_dir", "upload_pending"]
