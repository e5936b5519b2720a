"""Issue 11.16: every metadata block of an uploaded photo is stripped (JPEG comments too), and
phones' multi-picture JPEGs (MPO) are accepted as their first frame."""

import io

from PIL import Image, PngImagePlugin

from complaints.cases.evidence import clean_image

SECRET = b"GPS 18.2528N 109.5119E Room 1208"


def _jpeg_with_everything() -> bytes:
    image = Image.new("RGB", (40, 30), (10, 200, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    out = io.BytesIO()
    image.save(out, "JPEG", comment=SECRET, exif=exif, icc_profile=b"\0" * 128 + SECRET)
    data = out.getvalue()
    assert SECRET in data
    return data


def test_jpeg_comments_exif_and_profiles_are_gone():
    cleaned = clean_image(_jpeg_with_everything(), "r.jpg", 10**7)
    assert cleaned.content_type == "image/jpeg"
    assert SECRET not in cleaned.data
    assert b"PhoneMaker" not in cleaned.data
    with Image.open(io.BytesIO(cleaned.data)) as image:
        assert not {"comment", "exif", "icc_profile"} & set(image.info)
        assert image.size == (40, 30)


def test_png_text_chunks_are_gone():
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", SECRET.decode())
    out = io.BytesIO()
    Image.new("RGB", (20, 20), (1, 2, 3)).save(out, "PNG", pnginfo=info)
    assert SECRET in out.getvalue()
    cleaned = clean_image(out.getvalue(), "r.png", 10**7)
    assert SECRET not in cleaned.data


def test_multi_picture_jpegs_are_accepted_as_their_first_frame():
    first = Image.new("RGB", (32, 24), (250, 0, 0))
    second = Image.new("RGB", (32, 24), (0, 0, 250))
    out = io.BytesIO()
    first.save(out, "MPO", save_all=True, append_images=[second], comment=SECRET)
    with Image.open(io.BytesIO(out.getvalue())) as probe:
        assert probe.format == "MPO"
    cleaned = clean_image(out.getvalue(), "portrait.jpg", 10**7)
    assert cleaned.content_type == "image/jpeg"
    assert SECRET not in cleaned.data
    with Image.open(io.BytesIO(cleaned.data)) as image:
        assert image.format == "JPEG"
        red, _green, blue = image.getpixel((16, 12))
        assert red > 200 > blue  # the first frame
