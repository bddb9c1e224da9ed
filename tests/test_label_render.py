"""Label rendering engine: layouts, privacy masking, PDF and printer jobs read back with real tools.

Barcodes are read with zbarimg from the PDF rasterised by pdftoppm at printer resolution, and from the
rasters that raster_from_tspl/zpl/escpos rebuild out of the job bytes; PDF text is read with pdftotext.
"""

import dataclasses
import importlib.util
import io
import json
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

try:
    from odoo.addons.label_printing import label_render
except ImportError:  # plain pytest without Odoo: the engine itself imports nothing from odoo

    def _load_by_path():
        path = Path(__file__).resolve().parent.parent / "addons" / "label_printing" / "label_render.py"
        spec = importlib.util.spec_from_file_location("label_render", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    label_render = _load_by_path()

LAYOUTS = sorted(label_render.LAYOUTS)
PRINTER_FORMATS = ("tspl", "zpl", "escpos")
DECODERS = {
    "tspl": label_render.raster_from_tspl,
    "zpl": label_render.raster_from_zpl,
    "escpos": label_render.raster_from_escpos,
}
RECEIVER = {
    "name": "王小明",
    "phone": "13812348000",
    "province": "福建省",
    "city": "厦门市",
    "district": "湖里区",
    "address": "科技园路88号3栋2单元501室",
}


def _label(**overrides):
    values = {
        "waybill": "773123456789012",
        "express_code": "ZTO",
        "express_name": "中通快递",
        "mark_destination": "闽-厦-美",
        "sorting_code": "830-120-00 012",
        "package_name": "厦门转运中心",
        "sender": {
            "name": "杭州优品旗舰店",
            "phone": "0571-88886666",
            "province": "浙江省",
            "city": "杭州市",
            "district": "余杭区",
            "address": "仓前街道文一西路1888号",
        },
        "receiver": dict(RECEIVER),
        "goods_summary": "羊毛围巾 ×2，保温杯 ×1",
        "remark": "请放快递柜，勿电联",
        "order_ref": "SO2026112300042",
        "printed_at": datetime(2026, 11, 23, 14, 5),
    }
    values.update(overrides)
    return label_render.LabelData(**values)


def _scan(png_path):
    """[(symbology, data)] that zbarimg reads from an image file."""
    result = subprocess.run(["zbarimg", "-q", str(png_path)], capture_output=True, text=True)
    return [tuple(line.split(":", 1)) for line in result.stdout.splitlines() if ":" in line]


def _scan_image(image, tmp_path, name="raster.png"):
    path = tmp_path / name
    image.save(path)
    return _scan(path)


def _pdf_page_png(pdf_bytes, tmp_path, page=1):
    pdf = tmp_path / "labels.pdf"
    pdf.write_bytes(pdf_bytes)
    prefix = tmp_path / "page"
    subprocess.run(
        ["pdftoppm", "-r", "203", "-mono", "-png", "-f", str(page), "-l", str(page), "-singlefile", pdf, prefix],
        check=True,
    )
    return prefix.with_suffix(".png")


def _pdf_text(pdf_bytes, tmp_path):
    """pdftotext output with all white space removed: wrapped lines join up again."""
    pdf = tmp_path / "text.pdf"
    pdf.write_bytes(pdf_bytes)
    text = subprocess.run(["pdftotext", pdf, "-"], check=True, capture_output=True, text=True).stdout
    return re.sub(r"\s", "", text)


def _assert_reads_waybill(symbols, waybill, qr_payload):
    codes = {data for kind, data in symbols if kind == "CODE-128"}
    qr_codes = {data for kind, data in symbols if kind == "QR-Code"}
    assert codes == {waybill}, symbols
    assert qr_codes == {qr_payload}, symbols


# ------------------------------------------------------------------------------------------------ rendering


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize(
    ("fmt", "prefix"), [("pdf", b"%PDF"), ("tspl", b"SIZE "), ("zpl", b"^XA"), ("escpos", b"\x1b@")]
)
def test_every_layout_and_format_renders(layout, fmt, prefix):
    job = label_render.render_batch([_label()], fmt, layout)
    assert job.startswith(prefix)


@pytest.mark.parametrize(
    ("layout", "dpi", "size"),
    [("76x130", 203, (608, 1040)), ("100x150", 203, (800, 1200)), ("100x180", 203, (800, 1440)),
     ("100x150", 300, (1200, 1800))],
)
def test_raster_has_the_printer_width_in_dots(layout, dpi, size):
    image = label_render.render_image(_label(), layout, dpi=dpi)
    assert image.mode == "1"
    assert image.size == size


def test_layout_zones_fit_the_label_and_their_text():
    for layout in label_render.LAYOUTS.values():
        for name, zone in layout.zones.items():
            assert 0 <= zone.x and zone.x + zone.w <= layout.width, (layout.name, name)
            assert 0 <= zone.y and zone.y + zone.h <= layout.height, (layout.name, name)
            text_height = zone.font_mm * (1 + label_render.LINE_PITCH * (zone.max_lines - 1))
            assert text_height <= zone.h, (layout.name, name)


def test_unknown_layout_or_format_is_refused():
    with pytest.raises(ValueError):
        label_render.render_pdf([_label()], "100x100")
    with pytest.raises(ValueError):
        label_render.render_batch([_label()], "epl", "100x150")
    with pytest.raises(ValueError):
        label_render.render_batch([], "pdf", "100x150")
    with pytest.raises(ValueError):
        _label(waybill="顺丰123")


# ---------------------------------------------------------------------------------------- barcodes read back


@pytest.mark.parametrize("layout", LAYOUTS)
def test_pdf_barcode_and_qr_read_back_at_203_dpi(layout, tmp_path):
    label = _label(waybill="SF1234567890123", qr_payload="https://t.example.cn/SF1234567890123")
    png = _pdf_page_png(label_render.render_pdf([label], layout), tmp_path)
    _assert_reads_waybill(_scan(png), "SF1234567890123", "https://t.example.cn/SF1234567890123")


def test_pdf_qr_defaults_to_the_waybill(tmp_path):
    png = _pdf_page_png(label_render.render_pdf([_label()], "76x130"), tmp_path)
    _assert_reads_waybill(_scan(png), "773123456789012", "773123456789012")


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("fmt", PRINTER_FORMATS)
def test_printer_job_decodes_to_the_rendered_raster(fmt, layout, tmp_path):
    label = _label()
    raster = DECODERS[fmt](label_render.render_batch([label], fmt, layout))
    rendered = label_render.render_image(label, layout)
    assert (raster.size, raster.tobytes()) == (rendered.size, rendered.tobytes())
    _assert_reads_waybill(_scan_image(raster, tmp_path), label.waybill, label.waybill)


def _runs(pixels):
    """[(value, length)] of the runs in a row of pixels."""
    runs = []
    for value in pixels:
        if runs and runs[-1][0] == value:
            runs[-1][1] += 1
        else:
            runs.append([value, 1])
    return runs


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dpi", [203, 300])
def test_barcode_modules_are_whole_dots_with_quiet_zones(layout, dpi):
    image = label_render.render_image(_label(waybill="SF1234567890123"), layout, dpi=dpi)
    dots_per_mm = round(dpi / 25.4)
    zone = label_render.LAYOUTS[layout].zones["barcode"]
    y = round((zone.y + 3) * dots_per_mm)
    row = [image.getpixel((x, y)) for x in range(image.width)]
    runs = _runs(row)
    assert runs[0][0] and runs[-1][0]  # white at both edges
    bars = runs[1:-1]
    module = min(length for _, length in bars)
    assert module >= 2  # 0.25 mm at 203 dpi: scannable
    assert all(length % module == 0 and length <= 4 * module for _, length in bars)
    assert min(runs[0][1], runs[-1][1]) >= 10 * module  # quiet zones


@pytest.mark.parametrize("fmt", PRINTER_FORMATS)
def test_printer_job_at_300_dpi_reads_back(fmt, tmp_path):
    label = _label(waybill="JT1234567890123")
    job = {"tspl": label_render.to_tspl, "zpl": label_render.to_zpl, "escpos": label_render.to_escpos}[fmt](
        label, "100x180", dpi=300
    )
    decode = DECODERS[fmt]
    raster = decode(job, dpi=300) if fmt == "tspl" else decode(job)
    assert raster.size == (1200, 2160)
    _assert_reads_waybill(_scan_image(raster, tmp_path), label.waybill, label.waybill)


@pytest.mark.parametrize("fmt", PRINTER_FORMATS)
def test_batch_job_keeps_one_label_per_waybill(fmt, tmp_path):
    waybills = ["773000000000001", "773000000000002", "773000000000003"]
    job = label_render.render_batch([_label(waybill=w) for w in waybills], fmt, "76x130")
    for page, waybill in enumerate(waybills):
        symbols = _scan_image(DECODERS[fmt](job, page=page), tmp_path, f"page{page}.png")
        _assert_reads_waybill(symbols, waybill, waybill)
    with pytest.raises(IndexError):
        DECODERS[fmt](job, page=3)


# --------------------------------------------------------------------------------------------- job structure


def test_tspl_job_commands():
    job = label_render.to_tspl(_label(), "100x150")
    assert job.startswith(b"SIZE 100 mm,150 mm\r\nGAP 2 mm,0 mm\r\nDIRECTION 1,0\r\nREFERENCE 0,0\r\nCLS\r\n")
    assert b"BITMAP 0,0,100,1200,0," in job
    assert job.endswith(b"\r\nPRINT 1,1\r\n")


def test_zpl_job_is_one_compressed_graphic_field():
    job = label_render.to_zpl(_label(), "76x130").decode("ascii")
    assert job.startswith("^XA\n^PW608\n^LL1040\n")
    assert "^FO0,0^GFA,79040,79040,76," in job
    assert job.rstrip().endswith("^XZ")
    assert len(job) < 79040  # uncompressed hex would be twice the byte count


def test_escpos_job_is_init_raster_and_cut():
    job = label_render.to_escpos(_label(), "76x130")
    assert job.startswith(b"\x1b@\x1dv0\x00\x4c\x00")  # 76 bytes (608 dots) per row
    assert job.endswith(b"\x1bd\x06\x1dV\x00")


# -------------------------------------------------------------------------------------------------- privacy


def test_mask_receiver_rules():
    masked = label_render.mask_receiver(_label()).receiver
    assert masked["name"] == "王**"
    assert masked["phone"] == "1******8000"
    assert masked["address"] == "科技园路**"
    assert (masked["province"], masked["city"], masked["district"]) == ("福建省", "厦门市", "湖里区")


@pytest.mark.parametrize(
    ("phone", "expected"),
    [
        ("13812348000", "1******8000"),
        ("+86 138-1234-8000", "+86 1**-****-8000"),
        ("0592-5551234", "0***-***1234"),
        ("5551234", "******4"),
        ("13812348000转1234", "13812348000转1234"),  # platform virtual number, already private
    ],
)
def test_masked_phone_hides_at_least_six_digits(phone, expected):
    masked = label_render.mask_receiver(_label(receiver={**RECEIVER, "phone": phone})).receiver["phone"]
    assert masked == expected
    if "转" not in phone:
        assert masked.count("*") >= 6


def test_mask_single_character_name_and_address_without_street():
    receiver = {**RECEIVER, "name": "王", "address": "88号3栋2单元501室"}
    masked = label_render.mask_receiver(_label(receiver=receiver)).receiver
    assert masked["name"] == "*"
    assert masked["address"] == "**"


def test_mask_receiver_leaves_the_original_and_the_sender_alone():
    label = _label()
    label_render.mask_receiver(label)
    assert label.receiver == RECEIVER
    assert label_render.mask_receiver(label).sender == label.sender


@pytest.mark.parametrize("layout", LAYOUTS)
def test_masked_pdf_hides_receiver_identity(layout, tmp_path):
    text = _pdf_text(label_render.render_pdf([_label()], layout, masked=True), tmp_path)
    for secret in ("王小明", "13812348000", "科技园路88号", "2单元501室"):
        assert secret not in text
    for shown in ("王**", "1******8000", "福建省厦门市湖里区科技园路**"):
        assert shown in text


@pytest.mark.parametrize("layout", LAYOUTS)
def test_unmasked_pdf_shows_receiver_identity(layout, tmp_path):
    text = _pdf_text(label_render.render_pdf([_label()], layout), tmp_path)
    for shown in ("王小明", "13812348000", "福建省厦门市湖里区科技园路88号3栋2单元501室"):
        assert shown in text


# ----------------------------------------------------------------------------------------------------- text


@pytest.mark.parametrize("layout", LAYOUTS)
def test_pdf_carries_chinese_routing_and_address_text(layout, tmp_path):
    text = _pdf_text(label_render.render_pdf([_label()], layout), tmp_path)
    for expected in ("闽-厦-美", "830-120-00012", "厦门转运中心", "厦门市", "中通快递", "羊毛围巾", "请放快递柜",
                     "SO2026112300042", "2026-11-2314:05"):
        assert expected in text


@pytest.mark.parametrize("layout", LAYOUTS)
def test_sub_waybill_numbering_shows(layout, tmp_path):
    labels = [_label(waybill=f"77300000000000{i}", sub_waybill_index=i, sub_waybill_count=3) for i in (1, 2, 3)]
    pdf = label_render.render_pdf(labels, layout)
    for page in (1, 2, 3):
        text = subprocess.run(
            ["pdftotext", "-f", str(page), "-l", str(page), "-", "-"], input=pdf, capture_output=True, check=True
        ).stdout.decode()
        assert f"子母件 {page}/3" in text
    assert "子母件" not in _pdf_text(label_render.render_pdf([_label()], layout), tmp_path)


def test_cod_and_insurance_marks_show(tmp_path):
    text = _pdf_text(label_render.render_pdf([_label(cod_amount=129.5, insured_value=2000)], "100x180"), tmp_path)
    assert "代收货款¥129.50" in text
    assert "保价¥2000.00" in text


def test_text_too_long_for_its_zone_is_cut_with_an_ellipsis(tmp_path):
    remark = "请在工作日白天派送，" * 40
    text = _pdf_text(label_render.render_pdf([_label(remark=remark)], "76x130"), tmp_path)
    assert "备注:请在工作日白天派送" in text
    assert "…" in text
    assert remark.replace(" ", "") not in text


# ------------------------------------------------------------------------------------------------------ volume


# Runs in a fresh interpreter: under ./shoplog test, Odoo's limit_memory_hard caps this process's address space
# (RLIMIT_AS) and the rest of the suite has used most of it; a 1,000-label ESC/POS job alone is 120 MB.
_THOUSAND_LABELS = """
import importlib.util, json, sys, time
module_path, out_dir, fields = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
spec = importlib.util.spec_from_file_location("label_render", module_path)
label_render = importlib.util.module_from_spec(spec)
spec.loader.exec_module(label_render)
labels = [label_render.LabelData(**{**fields, "waybill": f"7731{i:011d}"}) for i in range(1000)]
timings = {}
for fmt in ("pdf", "escpos"):
    started = time.perf_counter()
    job = label_render.render_batch(labels, fmt, "100x150", masked=True)
    timings[fmt] = time.perf_counter() - started
    with open(f"{out_dir}/batch.{fmt}", "wb") as output:
        output.write(job)
label_render.raster_from_escpos(job, page=999).save(f"{out_dir}/last-escpos-label.png")
print(json.dumps(timings))
"""


def test_thousand_labels_render_to_pdf_and_escpos(tmp_path):
    """Sanity bound only; bench/bench_labels.py measures."""
    fields = json.dumps({**dataclasses.asdict(_label(printed_at=None)), "qr_payload": None})
    result = subprocess.run(
        [sys.executable, "-c", _THOUSAND_LABELS, label_render.__file__, str(tmp_path), fields],
        capture_output=True, text=True, check=True, timeout=300,
    )
    timings = json.loads(result.stdout)
    assert timings["pdf"] < 60
    assert timings["escpos"] < 60
    info = subprocess.run(["pdfinfo", tmp_path / "batch.pdf"], capture_output=True, text=True, check=True).stdout
    assert re.search(r"^Pages:\s+1000$", info, re.M)
    _assert_reads_waybill(_scan(tmp_path / "last-escpos-label.png"), "773100000000999", "773100000000999")


# ------------------------------------------------------------------------------- carrier print templates


def _template(number, size="150", **order_overrides):
    """KDNiao's PrintTemplate as the simulator returns it with IsReturnPrintTemplate=1."""
    from tests.simulators.kdniao import print_template

    order = {"ShipperCode": "ZTO", "MarkDestination": "闽-厦-美", "SortingCode": "830-120-00 012",
             "PackageName": "厦门转运中心", "OrderCode": f"OD{number}", **order_overrides}
    request = {
        "TemplateSize": size,
        "Receiver": {"Name": "王小明", "Mobile": "13812348000", "ProvinceName": "福建省", "CityName": "厦门市",
                     "ExpAreaName": "湖里区", "Address": "科技园路88号"},
        "Sender": {"Name": "杭州优品旗舰店", "Mobile": "13900000003"},
        "Commodity": [{"GoodsName": "羊毛围巾"}],
    }
    return print_template(order, request, number)


def _page_sizes_mm(pdf):
    pages = label_render.PdfReader(io.BytesIO(pdf)).pages
    return [tuple(round(float(side) / 72 * 25.4) for side in page.mediabox[2:]) for page in pages]


@pytest.mark.parametrize(("layout", "size"), [("76x130", "130"), ("100x150", "150"), ("100x180", "180")])
def test_template_pdf_has_a_page_of_the_label_size_per_template(layout, size, tmp_path):
    numbers = ["73100000000001", "73100000000002", "73100000000003"]
    pdf = label_render.template_pdf([_template(number, size) for number in numbers], layout)
    spec = label_render.LAYOUTS[layout]
    assert _page_sizes_mm(pdf) == [(spec.width, spec.height)] * 3
    for page, number in enumerate(numbers, start=1):
        text = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), "-", "-"], input=pdf,
                              capture_output=True, check=True).stdout.decode()
        assert f"运单号：{number}" in re.sub(r"\s", "", text)
        symbols = _scan(_pdf_page_png(pdf, tmp_path, page))
        assert symbols == [("CODE-128", number)]


@pytest.mark.parametrize("fmt", PRINTER_FORMATS)
@pytest.mark.parametrize(("layout", "dpi"), [("76x130", 203), ("100x150", 203), ("100x180", 300)])
def test_template_prints_on_thermal_printers_and_reads_back(fmt, layout, dpi, tmp_path):
    number = "SF1234567890123"
    job = label_render.render_batch([label_render.TemplateLabel(_template(number, layout[-3:]), number)], fmt,
                                    layout, dpi=dpi)
    raster = DECODERS[fmt](job, dpi=dpi) if fmt == "tspl" else DECODERS[fmt](job)
    assert raster.size == label_render._raster_size(label_render.LAYOUTS[layout], dpi)
    assert _scan_image(raster, tmp_path) == [("CODE-128", number)]  # the template's barcode, no QR of ours


def test_template_css_millimetres_are_label_millimetres():
    """wkhtmltopdf on an unpatched Qt draws at 0.768 scale: the calibrated zoom brings 60 mm back to 60 mm."""
    html = ('<html><body style="margin:0"><div style="margin:10mm 0 0 5mm;width:60mm;height:20mm;'
            'background:#000"></div></body></html>')
    raster = label_render.template_rasters(label_render.template_pdf([html], "100x150"), "100x150", dpi=203)[0]
    left, top, right, bottom = raster.point(lambda value: 255 - value).getbbox()
    assert abs((right - left) - 480) <= 3 and abs((bottom - top) - 160) <= 3  # 8 dots per mm
    assert abs(left - 40) <= 3 and abs(top - 80) <= 3


def test_templates_of_different_layouts_scripts_and_overflow_keep_one_page_each(tmp_path):
    scripted = ('<html><head><title>x</title></head><body><div id="n"></div><script>'
                'document.getElementById("n").innerHTML = "脚本运单 " + (70000 + 7);</script></body></html>')
    too_long = '<html><body><div style="height:400mm;border:1px solid #000">超长面单</div></body></html>'
    other_style = '<html><head><style>.x{font-size:20pt}</style></head><body><p class="x">其他模板</p></body></html>'
    htmls = [_template("73100000000011"), scripted, too_long, other_style, _template("73100000000012")]
    pdf = label_render.template_pdf(htmls, "100x150")
    assert _page_sizes_mm(pdf) == [(100, 150)] * 5
    texts = [
        re.sub(r"\s", "", subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), "-", "-"], input=pdf,
                                         capture_output=True, check=True).stdout.decode())
        for page in range(1, 6)
    ]
    assert "73100000000011" in texts[0]
    assert "脚本运单70007" in texts[1]
    assert "超长面单" in texts[2]
    assert "其他模板" in texts[3]
    assert "73100000000012" in texts[4]


def test_mixed_batch_keeps_label_order_in_pdf_and_printer_jobs(tmp_path):
    labels = [_label(waybill="773000000000001"),
              label_render.TemplateLabel(_template("73100000000021"), "73100000000021"),
              _label(waybill="773000000000003")]
    pdf = label_render.render_batch(labels, "pdf", "100x150")
    assert _page_sizes_mm(pdf) == [(100, 150)] * 3
    assert _scan(_pdf_page_png(pdf, tmp_path, 2)) == [("CODE-128", "73100000000021")]
    _assert_reads_waybill(_scan(_pdf_page_png(pdf, tmp_path, 3)), "773000000000003", "773000000000003")
    for fmt in PRINTER_FORMATS:
        job = label_render.render_batch(labels, fmt, "100x150")
        pages = [_scan_image(DECODERS[fmt](job, page=page), tmp_path, f"{fmt}{page}.png") for page in range(3)]
        assert [dict(symbols)["CODE-128"] for symbols in pages] == ["773000000000001", "73100000000021",
                                                                     "773000000000003"]


def test_template_errors_are_template_render_errors(monkeypatch):
    with pytest.raises(label_render.TemplateRenderError):
        label_render.template_pdf([""], "100x150")
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(label_render.TemplateRenderError, match="wkhtmltopdf is not installed"):
        label_render.template_pdf([_template("73100000000031")], "100x150")


@pytest.mark.parametrize("fmt", label_render.FORMATS)
def test_jobs_rendered_in_parts_join_into_one_job(fmt, tmp_path):
    labels = [_label(waybill=f"77300000000010{i}") for i in range(5)]
    whole = label_render.render_batch(labels, fmt, "76x130")
    joined = label_render.join_jobs(fmt, [label_render.render_batch(part, fmt, "76x130")
                                          for part in (labels[:2], labels[2:3], labels[3:])])
    if fmt == "pdf":
        assert len(label_render.PdfReader(io.BytesIO(joined)).pages) == 5
        _assert_reads_waybill(_scan(_pdf_page_png(joined, tmp_path, 4)), "773000000000103", "773000000000103")
    else:
        assert joined == whole
    with pytest.raises(ValueError):
        label_render.join_jobs(fmt, [])
