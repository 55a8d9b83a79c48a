"""What one request to the web server may hold; anything over a limit is refused with 413."""
from __future__ import annotations

from dataclasses import asdict, dataclass

from imageprivacy.errors import ConfigurationError


@dataclass(frozen=True)
class UploadLimits:
    # 50 MP holds any phone or consumer camera photo; decoded as RGB float for the protection it is
    # ~600 MB, which is what one request may cost this machine.
    max_megapixels: float = 50.0
    max_files: int = 1000              # images in one zip (and entries of any kind in it)
    max_upload_mb: float = 1024.0      # the request body, and the uncompressed total of a zip

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if not value > 0:
                raise ConfigurationError(f"{name} must be > 0, got {value}")

    @property
    def max_pixels(self) -> int:
        return int(self.max_megapixels * 1_000_000)

    @property
    def max_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    def as_dict(self) -> dict:
        return asdict(self)
