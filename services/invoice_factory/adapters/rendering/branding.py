"""A tenant's look on its invoices: logo, primary colour, extra footer lines.

Values go into CSS and an <img src>, so they are checked here: a colour must
be a hex colour and a logo an image data URI (WeasyPrint then never fetches
anything over the network while rendering).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_HEX_COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


@dataclass(frozen=True)
class Branding:
    primary_colour: str = "#1f4e79"
    logo_data_uri: str | None = None  # data:image/png;base64,... or data:image/svg+xml;base64,...
    footer_lines: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not _HEX_COLOUR.match(self.primary_colour):
            raise ValueError(f"primary colour must be #rgb or #rrggbb, not {self.primary_colour!r}")
        if self.logo_data_uri is not None and not self.logo_data_uri.startswith("data:image/"):
            raise ValueError("the logo must be an image data URI")
