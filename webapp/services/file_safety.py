"""The content checks every uploaded file goes through before it is stored: the one path for a
patient's documents, a professional's deposits and the attachments of messages.

The magic bytes (`filetypes`) say what a file claims to be; this says whether it is that and
nothing more. A PDF must parse and carry no active content (`pdf_safety`). An image must not
declare more than `MAX_PIXELS`, read from its header before anything is decoded; JPEG and PNG,
which the browser shows inline, are decoded and encoded again, so that what is kept is only
the picture: no metadata (EXIF, GPS, comments), nothing hidden after it, upright as the
camera's orientation tag said. Text and RTF are stored as they come (`filetypes` already
refuses markup and executables).
"""

from __future__ import annotations

import io
import warnings
from typing import Final

from PIL import Image, ImageCms, ImageOps, JpegImagePlugin

from webapp.services import filetypes, pdf_safety, storage

MAX_PIXELS: Final = 40_000_000
# A TIFF may hold many pages (a scan); each is checked, up to this many.
MAX_FRAMES: Final = 500

_CHECKED: Final = frozenset({filetypes.PDF, filetypes.JPEG, filetypes.PNG, filetypes.TIFF})
_PILLOW_FORMATS: Final = {filetypes.JPEG: "JPEG", filetypes.PNG: "PNG", filetypes.TIFF: "TIFF"}
_PNG_END: Final = b"\x00\x00\x00\x00IEND\xaeB`\x82"  # the IEND chunk, its CRC included
_JPEG_SCAN: Final = b"\xff\xda"
_JPEG_END: Final = b"\xff\xd9"
_SRGB: Final = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


class Refused(storage.StorageError):
    """The file is of an accepted type, but cannot be kept as it is."""


class Unreadable(Refused):
    """It does not parse as what its first bytes claim: damaged, truncated, or disguised."""


class ActiveContent(Refused):
    """A PDF carries JavaScript, a launch action, an embedded file or rich media."""


class PasswordProtected(Refused):
    """A PDF opens only with a password, so nobody who reads the record could read it."""


class TooComplex(Refused):
    """The check ran out of time or budget before it could say the file is safe."""


class TooManyPixels(Refused):
    """An image declares more than `limit` pixels (a few bytes can declare billions)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"The image has more than {limit} pixels")
        self.limit = limit


def store_upload(stream: storage.Readable, *, max_bytes: int) -> storage.StoredBlob:
    """Check the upload's content, then store it encrypted (`storage.store`).

    A PDF or an image is read whole (at most `max_bytes`) for its check; what is stored is
    what `cleaned` returns. Other types stream straight through. Raises a `storage`
    error, `Refused` included, before anything is written.
    """
    head = _read_at_most(stream, min(filetypes.SNIFF_BYTES, max_bytes + 1))
    media_type = filetypes.detect(head)
    if media_type not in _CHECKED:
        return storage.store(_Replay(head, stream), max_bytes=max_bytes)
    content = head + _read_at_most(stream, max_bytes + 1 - len(head))
    if len(content) > max_bytes:
        raise storage.TooLarge(max_bytes)
    safe = cleaned(content, media_type)
    # An image encoded again may outgrow the upload: the limit was the sender's, not ours.
    return storage.store(io.BytesIO(safe), max_bytes=max(max_bytes, len(safe)))


def cleaned(content: bytes, media_type: str) -> bytes:
    """The bytes to keep for `content` of `media_type` (as `filetypes.detect` named it): the
    same bytes, or for JPEG and PNG the picture encoded again. Raises `Refused`."""
    if media_type == filetypes.PDF:
        _check_pdf(content)
        return content
    if media_type in _PILLOW_FORMATS:
        return _cleaned_image(content, media_type)
    return content


# --- PDF ---------------------------------------------------------------------------------------


def _check_pdf(content: bytes) -> None:
    try:
        verdict = pdf_safety.examine(content)
    except OSError as exc:  # no process or pipe to spare now: the person may try again
        raise storage.StorageError("The PDF could not be checked now") from exc
    if verdict == pdf_safety.Verdict.DAMAGED:
        raise Unreadable("The PDF does not parse")
    if verdict == pdf_safety.Verdict.ACTIVE:
        raise ActiveContent("The PDF carries active content")
    if verdict == pdf_safety.Verdict.PASSWORD:
        raise PasswordProtected("The PDF needs a password")
    if verdict == pdf_safety.Verdict.TOO_COMPLEX:
        raise TooComplex("The PDF could not be checked in time")


# --- images ------------------------------------------------------------------------------------


def _cleaned_image(content: bytes, media_type: str) -> bytes:
    # Pillow warns about odd but readable files; a hostile one fails below, whatever it is.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with Image.open(io.BytesIO(content), formats=[_PILLOW_FORMATS[media_type]]) as image:
                if media_type == filetypes.TIFF:
                    _check_frames(image)
                    return content  # downloaded, never shown inline: kept as sent
                _check_pixels(image)
                _check_complete(content, media_type)
                image.load()
                return _encoded_again(image, media_type)
        except Refused:
            raise
        except Image.DecompressionBombError as exc:  # Pillow's own limit, far above ours
            raise TooManyPixels(MAX_PIXELS) from exc
        except Exception as exc:  # any failure of a decoder on this input: it does not parse
            raise Unreadable(f"The image does not decode: {type(exc).__name__}") from exc


def _check_pixels(image: Image.Image) -> None:
    width, height = image.size
    if width < 1 or height < 1:
        raise Unreadable("The image has no pixel")
    if width * height > MAX_PIXELS:
        raise TooManyPixels(MAX_PIXELS)


def _check_complete(content: bytes, media_type: str) -> None:
    """The picture's end marker is there. Pillow would fill a cut picture in silently, since
    WeasyPrint (letters) sets its `LOAD_TRUNCATED_IMAGES` for the whole process."""
    if media_type == filetypes.PNG:
        complete = _PNG_END in content
    else:  # the end of image after the last start of scan (a thumbnail has its own end)
        complete = content.rfind(_JPEG_END) > content.rfind(_JPEG_SCAN)
    if not complete:
        raise Unreadable("The image is cut short")


def _check_frames(image: Image.Image) -> None:
    """Each page of a TIFF, from its header; seeking reads no pixel."""
    for index in range(MAX_FRAMES + 1):
        try:
            image.seek(index)
        except EOFError:
            return
        _check_pixels(image)
    raise TooComplex(f"The image has more than {MAX_FRAMES} pages")


def _encoded_again(image: Image.Image, media_type: str) -> bytes:
    picture = _in_srgb(_upright(image))
    transparency = picture.info.get("transparency")
    picture.info = {} if transparency is None else {"transparency": transparency}
    out = io.BytesIO()
    if media_type == filetypes.PNG:
        picture.save(out, format="PNG")
    else:
        _save_jpeg(picture, image, out)
    return out.getvalue()


def _upright(image: Image.Image) -> Image.Image:
    """The picture turned as its orientation tag says, since the tag goes with the EXIF."""
    try:
        return ImageOps.exif_transpose(image)
    except Exception:  # an unreadable EXIF block: the picture stays as it was stored
        return image.copy()


def _in_srgb(image: Image.Image) -> Image.Image:
    """Colours converted from the embedded ICC profile to sRGB, which browsers assume, so the
    profile (a blob of bytes like any other) can be dropped without changing the picture."""
    profile = image.info.get("icc_profile")
    if not profile or image.mode not in ("RGB", "RGBA", "CMYK"):
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        mode = "RGBA" if image.mode == "RGBA" else "RGB"
        converted = ImageCms.profileToProfile(image, source, _SRGB, outputMode=mode)
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image  # a profile that does not parse is dropped: colours read as sRGB
    return converted if converted is not None else image


def _save_jpeg(picture: Image.Image, original: Image.Image, out: io.BytesIO) -> None:
    """With the original's quantisation tables and subsampling when it has them, so that the
    photo keeps its quality and about its size; otherwise at quality 90."""
    tables = getattr(original, "quantization", None)
    sampling = JpegImagePlugin.get_sampling(original)
    if tables and picture.mode in ("L", "RGB", "CMYK"):
        try:
            options: dict[str, object] = {"qtables": tables}
            if sampling >= 0:
                options["subsampling"] = sampling
            picture.save(out, format="JPEG", **options)
            return
        except (OSError, ValueError, TypeError):
            out.seek(0)
            out.truncate()
    if picture.mode not in ("L", "RGB", "CMYK"):
        picture = picture.convert("RGB")
    picture.save(out, format="JPEG", quality=90)


# --- reading -----------------------------------------------------------------------------------


def _read_at_most(stream: storage.Readable, limit: int) -> bytes:
    """Up to `limit` bytes, however short the stream's reads are."""
    pieces = bytearray()
    while len(pieces) < limit:
        piece = stream.read(min(storage.CHUNK_BYTES, limit - len(pieces)))
        if not piece:
            break
        pieces += piece
    return bytes(pieces)


class _Replay:
    """The bytes already read, then the rest of the stream."""

    def __init__(self, head: bytes, stream: storage.Readable) -> None:
        self._head = head
        self._stream = stream

    def read(self, size: int, /) -> bytes:
        if self._head:
            piece, self._head = self._head[:size], self._head[size:]
            return piece
        return self._stream.read(size)
