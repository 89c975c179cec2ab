"""The invoice stylesheet, parsed once per language and once per tenant colour.

WeasyPrint spends about a quarter of a one-page render parsing and
cascading an inline <style>; handing it pre-parsed CSS objects and one
shared font configuration avoids that on every invoice of a run.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from services.invoice_factory.adapters.rendering.texts import TEXTS

_BRAND = """h1, header .logo .name {{ color: {colour}; }}
table.lines th {{ background: {colour}; }}"""


@lru_cache(maxsize=4)
def base_css_text(lang: str) -> str:
    css = (Path(__file__).parent / "templates" / "invoice.css").read_text(encoding="utf-8")
    return css.replace("{{PAGE}}", TEXTS[lang]["page"]).replace("{{OF}}", TEXTS[lang]["page_of"])


def brand_css_text(colour: str) -> str:
    """Only a validated hex colour (see Branding) ever reaches this CSS."""
    return _BRAND.format(colour=colour)


@lru_cache(maxsize=1)
def font_config():
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


@lru_cache(maxsize=4)
def base_css(lang: str):
    from weasyprint import CSS

    return CSS(string=base_css_text(lang), font_config=font_config())


@lru_cache(maxsize=64)
def brand_css(colour: str):
    from weasyprint import CSS

    return CSS(string=brand_css_text(colour), font_config=font_config())
