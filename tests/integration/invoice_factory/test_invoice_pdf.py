"""The invoice PDF is a ZUGFeRD/Factur-X e-invoice: PDF/A-3b, fonts embedded, the CII attached, § 14 UStG content printed."""

import base64
import io
import os
import re
import shutil
import subprocess
from dataclasses import replace

import pytest
from lxml import etree
from pypdf import PdfReader

from services.invoice_factory.adapters.rendering import Branding, render_pdf, render_xml
from services.invoice_factory.adapters.validation import errors, validate
from tests.integration.invoice_factory import samples

pytestmark = pytest.mark.usefixtures("rules_available")



def logo_data_uri() -> str:
    from PIL import Image  # WeasyPrint's own image dependency

    buffer = io.BytesIO()
    Image.new("RGB", (120, 36), (10, 125, 90)).save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


@pytest.fixture(scope="module")
def german_pdf() -> bytes:
    return render_pdf(samples.GERMAN, Branding(primary_colour="#0a7d5a", logo_data_uri=logo_data_uri(), footer_lines=("www.cycle.example",)))


def text_of(pdf: bytes) -> str:
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages)


def test_the_cii_is_attached_as_factur_x_xml_and_valid(german_pdf):
    reader = PdfReader(io.BytesIO(german_pdf))
    attached = reader.attachments["factur-x.xml"][0]
    assert attached == render_xml(samples.GERMAN, "cii-en16931")
    assert errors(validate(attached, "cii-en16931")) == []


def test_pdf_declares_pdf_a_3b_and_factur_x_en16931(german_pdf):
    xmp = PdfReader(io.BytesIO(german_pdf)).xmp_metadata.stream.get_data().decode()
    assert re.search(r"pdfaid:part(>|=\")3", xmp) and re.search(r"pdfaid:conformance(>|=\")B", xmp)
    assert "EN 16931" in xmp and "factur-x.xml" in xmp


RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
FX = "{urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#}"


def test_xmp_is_one_rdf_packet_with_the_factur_x_properties_their_schema_and_the_info_dictionary(german_pdf):
    reader = PdfReader(io.BytesIO(german_pdf))
    xmp = etree.fromstring(reader.xmp_metadata.stream.get_data())
    assert len(xmp.findall(f"{RDF}RDF")) == 1
    assert {element.get(f"{RDF}about") for element in xmp.iter(f"{RDF}Description")} == {""}
    fx = {element.tag.removeprefix(FX): element.text for element in xmp.iter() if str(element.tag).startswith(FX)}
    assert fx == {"DocumentType": "INVOICE", "DocumentFileName": "factur-x.xml", "Version": "1.0", "ConformanceLevel": "EN 16931"}
    declared = xmp.findall(".//{http://www.aiim.org/pdfa/ns/schema#}namespaceURI")
    assert [element.text for element in declared] == [FX[1:-1]]
    names = {element.text for element in xmp.iter("{http://www.aiim.org/pdfa/ns/property#}name")}
    assert names == set(fx)
    # PDF/A: every entry of the info dictionary has its equal in the XMP
    xmp_text = etree.tostring(xmp, encoding="unicode")
    info = reader.metadata
    assert info["/Title"] == "Rechnung RE-2026-000042" and info["/Author"] == "Cycle Cloud GmbH"
    for key in ("/Title", "/Author", "/Subject", "/Keywords", "/Producer"):
        assert f">{info[key]}<" in xmp_text or f'="{info[key]}"' in xmp_text, key


def test_the_xml_is_the_one_associated_file_related_as_data_and_typed_text_xml(german_pdf):
    catalog = PdfReader(io.BytesIO(german_pdf)).trailer["/Root"]
    related = [spec.get_object() for spec in catalog["/AF"]]
    assert len(related) == 1
    spec = related[0]
    assert spec["/F"] == spec["/UF"] == "factur-x.xml" and spec["/AFRelationship"] == "/Data"
    assert spec["/EF"]["/F"].get_object()["/Subtype"] == "/text/xml"


def test_a_scaled_logo_is_not_interpolated(german_pdf):
    """PDF/A (ISO 19005-3, 6.2.8): an image's Interpolate shall be false."""
    reader = PdfReader(io.BytesIO(german_pdf))
    images = [xobject.get_object() for page in reader.pages for xobject in page["/Resources"]["/XObject"].values()
              if xobject.get_object()["/Subtype"] == "/Image"]
    assert images
    assert [image.get("/Interpolate") in (None, False) for image in images] == [True] * len(images)


@pytest.mark.skipif(not os.environ.get("CLOUDBILL_VERAPDF"), reason="set CLOUDBILL_VERAPDF to a veraPDF command line")
def test_verapdf_passes_the_invoices_as_pdf_a_3b(german_pdf, tmp_path):
    paths = []
    for name, pdf in (("logo", german_pdf), ("credit", render_pdf(samples.CREDIT_NOTE)), ("english", render_pdf(samples.ENGLISH))):
        (tmp_path / f"{name}.pdf").write_bytes(pdf)
        paths.append(str(tmp_path / f"{name}.pdf"))
    report = subprocess.run([*os.environ["CLOUDBILL_VERAPDF"].split(), "--flavour", "3b", "--format", "text", *paths],
                            capture_output=True, text=True, timeout=600).stdout
    assert [line.split()[0] for line in report.splitlines() if line.startswith(("PASS", "FAIL"))] == ["PASS"] * 3, report


def test_every_font_is_embedded(german_pdf):
    reader = PdfReader(io.BytesIO(german_pdf))
    fonts = [font.get_object() for page in reader.pages for font in page["/Resources"]["/Font"].values()]
    assert fonts
    for font in fonts:
        descriptor = (font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font)["/FontDescriptor"]
        assert any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")), font


def test_mandatory_content_is_printed(german_pdf):
    text = text_of(german_pdf)
    for expected in [
        "Cycle Cloud GmbH", "Hauptstraße 1", "10115 Berlin",  # seller
        "Muster GmbH", "Musterstraße 42", "12345 Musterstadt",  # buyer
        "Rechnung RE-2026-000042", "01.12.2026", "01.11.2026 – 30.11.2026", "K-10042",  # number, date, period, customer
        "Grundgebühr Plattform Business", "API-Aufrufe Staffel 1 – 10.000", "API-Aufrufe Staffel 10.001 – 50.000",
        "Begrenzung auf Maximalpreis", "-7,50 €", "Region eu-central-1", "Workshop Cloud Compliance",
        "Nettobetrag 886,98 €", "Netto 19 % 867,00 €", "USt 19 % auf 867,00 € 164,73 €", "USt 7 % auf 19,98 € 1,40 €",
        "Summe inkl. USt 1.053,11 €",
        "DE123456789", "30/123/45678", "HRB 123456 B", "Max Mustermann",  # seller tax ids and legal data
        "DE89 3704 0044 0532 0130 00", "COBADEFFXXX", "www.cycle.example",
    ]:
        assert expected in text, expected


def test_reverse_charge_prints_the_legal_note_and_the_buyer_vat_id():
    text = text_of(render_pdf(samples.REVERSE_CHARGE))
    assert "Steuerschuldnerschaft des Leistungsempfängers" in text and "ATU12345678" in text
    assert "USt 0 % auf 610,00 € 0,00 €" in text


def test_self_billing_says_gutschrift():
    assert "Gutschrift GS-P-2026-000003" in text_of(render_pdf(samples.SELF_BILLED))


def test_credit_note_names_the_corrected_invoice():
    text = text_of(render_pdf(samples.CREDIT_NOTE))
    assert "Rechnungskorrektur GS-2026-000007" in text and "RE-2026-000042 vom 01.12.2026" in text


def test_direct_debit_prints_mandate_and_creditor_id_and_masks_the_iban():
    text = text_of(render_pdf(samples.DIRECT_DEBIT))
    assert "MNDT-2026-0042" in text and "DE98ZZZ09999999999" in text
    assert "DE02 **** **** **** **50 30" in text and "0137075030" not in text


def test_english_invoice():
    text = text_of(render_pdf(samples.ENGLISH))
    assert "Invoice INV-2026-000045" in text and "Total incl. VAT €1,053.11" in text and "VAT 7 % on €19.98 €1.40" in text


def test_a_hostile_colour_is_refused():
    with pytest.raises(ValueError):
        Branding(primary_colour="red; background: url(http://x)")


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils not installed")
def test_page_one_rasterizes_as_an_a4_page(german_pdf, tmp_path):
    (tmp_path / "invoice.pdf").write_bytes(german_pdf)
    subprocess.run(["pdftoppm", "-r", "50", "-png", "-f", "1", "-l", "1", "-singlefile", str(tmp_path / "invoice.pdf"),
                    str(tmp_path / "page")], check=True)
    png = (tmp_path / "page.png").read_bytes()
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert abs(height / width - 297 / 210) < 0.01


def test_a_one_page_invoice_stays_on_one_page(german_pdf):
    assert len(PdfReader(io.BytesIO(german_pdf)).pages) == 1


def test_a_long_invoice_breaks_pages_and_repeats_the_header():
    many = tuple(replace(samples.GERMAN.lines[1], position=i, description=f"Ereignis {i}") for i in range(1, 61))
    pdf = render_pdf(replace(samples.GERMAN, lines=many))
    pages = PdfReader(io.BytesIO(pdf)).pages
    assert len(pages) >= 2
    assert "Komponente / Ereignis" in pages[1].extract_text() and "Seite 2 von" in pages[1].extract_text()
