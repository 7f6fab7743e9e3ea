"""Real, small documents for upload tests: PDFs written by pypdf, pictures drawn by Pillow."""

import io
import struct
import zlib

from PIL import Image
from pypdf import PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, TextStringObject

# Stored in the PDF's document information, uncompressed: a string to look for in the bytes on disk.
PDF_TITLE = "Mobility letter for Ms Example"


def pdf_bytes(*, pages: int = 1, javascript: bool = False, launch: bool = False, attachment: bool = False) -> bytes:
    """A PDF of `pages` blank pages titled PDF_TITLE; optionally with a document-level script, an action
    that starts a program when it opens, or an attached file."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": PDF_TITLE})
    if javascript:  # a document-level script, in the catalogue's name tree as Acrobat keeps them
        script = writer._add_object(
            DictionaryObject(
                {NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject("app.alert(1);")}
            )
        )
        names = DictionaryObject({NameObject("/Names"): ArrayObject([TextStringObject("greeting"), script])})
        writer._root_object[NameObject("/Names")] = DictionaryObject({NameObject("/JavaScript"): names})
    if launch:
        writer._root_object[NameObject("/OpenAction")] = DictionaryObject(
            {NameObject("/S"): NameObject("/Launch"), NameObject("/F"): TextStringObject("calc.exe")}
        )
    if attachment:
        writer.add_attachment("notes.txt", b"attached notes")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def png_bytes(*, size=(40, 30), colour=(200, 30, 30), text_chunk: str = "") -> bytes:
    """A PNG picture; `text_chunk` goes in a tEXt metadata chunk."""
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    if text_chunk:
        info.add_text("Comment", text_chunk)
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG", pnginfo=info)
    return out.getvalue()


def jpeg_bytes(*, size=(40, 30), colour=(30, 30, 200), artist: str = "") -> bytes:
    """A JPEG photo; `artist` goes in its EXIF metadata."""
    image = Image.new("RGB", size, colour)
    exif = Image.Exif()
    if artist:
        exif[0x013B] = artist  # Artist
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def png_claiming_size(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims `width` x `height` pixels: what a decompression bomb looks like to
    a reader before it decodes anything."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00")) + chunk(b"IEND", b"")
