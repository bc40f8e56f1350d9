//! The media type of a package icon, decided the way `opm init --icon` does.
//!
//! Go opm asks `github.com/h2non/filetype` v1.1.3 to sniff the icon bytes,
//! after registering `github.com/h2non/go-is-svg` (2016 snapshot) as an extra
//! matcher, and rejects anything whose MIME type is not `image/*` (spec §5).
//! Users see the detected MIME type both in the `mediatype` field and in the
//! error for a non-image, so this module reproduces the library's matchers
//! byte for byte rather than using a general-purpose sniffer:
//!
//! * the SVG matcher runs first (filetype prepends user matchers);
//! * then the built-in categories in filetype's order: application, image,
//!   video, audio, font, document, archive.
//!
//! Go keeps each category in a map, so the order *within* a category is
//! random per process. Signatures rarely overlap; where they do (epub/zip,
//! deb/ar, short OLE files that match doc, xls and ppt alike, ...) Go may
//! name either type, and this table lists the more specific one first.
//! Overlaps only ever change which non-image type an error names, never
//! whether an icon is accepted: no two image matchers overlap, and
//! application types, the only ones checked before images, never match an
//! image signature.

use std::borrow::Cow;

/// Why an icon is refused. The texts are Go opm's (spec §5).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IconError {
    /// filetype's `ErrEmptyBuffer`, wrapped by opm.
    #[error("detect icon mediatype: Empty buffer")]
    Empty,
    /// The detected type (`""` when unknown) is not `image/*`.
    #[error("detected invalid type \"{0}\": not an image")]
    NotAnImage(&'static str),
}

/// The icon's media type, or why opm refuses it.
pub fn icon_media_type(data: &[u8]) -> Result<&'static str, IconError> {
    let mime = match_type(data).ok_or(IconError::Empty)?;
    // Go compares the part before the first '/' with "image"; every MIME
    // type in the table has exactly one '/'.
    if mime.starts_with("image/") {
        Ok(mime)
    } else {
        Err(IconError::NotAnImage(mime))
    }
}

/// filetype's `Match` with opm's SVG matcher registered: the MIME type of
/// the first matcher that accepts `data`, `""` for unknown, `None` for an
/// empty buffer.
pub fn match_type(data: &[u8]) -> Option<&'static str> {
    if data.is_empty() {
        return None;
    }
    Some(
        MATCHERS
            .iter()
            .find(|(_, m)| m(data))
            .map_or("", |(mime, _)| *mime),
    )
}

type Matcher = fn(&[u8]) -> bool;

/// Every matcher in the order filetype v1.1.3 (plus opm's SVG matcher)
/// tries them; see the module docs for the order inside a category.
const MATCHERS: &[(&str, Matcher)] = &[
    ("image/svg+xml", is_svg),
    // application
    ("application/wasm", wasm),
    ("application/vnd.android.dex", dex),
    ("application/vnd.android.dey", dey),
    // image
    ("image/jpeg", |b| prefix(b, &[0xFF, 0xD8, 0xFF])),
    ("image/jp2", |b| {
        b.len() > 12 && b[..13] == [0, 0, 0, 0xC, 0x6A, 0x50, 0x20, 0x20, 0xD, 0xA, 0x87, 0xA, 0]
    }),
    ("image/png", |b| prefix(b, &[0x89, b'P', b'N', b'G'])),
    ("image/gif", |b| prefix(b, b"GIF")),
    ("image/webp", |b| at(b, 8, b"WEBP")),
    ("image/x-canon-cr2", cr2),
    // filetype tells TIFF from CR2 by excluding CR2.
    ("image/tiff", |b| b.len() > 10 && tiff_header(b) && !cr2(b)),
    ("image/bmp", |b| prefix(b, b"BM")),
    ("image/vnd.ms-photo", |b| prefix(b, &[0x49, 0x49, 0xBC])),
    ("image/vnd.adobe.photoshop", |b| prefix(b, b"8BPS")),
    ("image/vnd.microsoft.icon", |b| prefix(b, &[0, 0, 1, 0])),
    ("image/heif", heif),
    ("image/vnd.dwg", |b| prefix(b, b"AC10")),
    // video
    ("video/mp4", mp4),
    ("video/x-m4v", |b| at(b, 4, b"ftypM4V")),
    ("video/x-matroska", |b| {
        prefix(b, EBML) && matroska_doc_type(b, b"matroska")
    }),
    ("video/webm", |b| {
        prefix(b, EBML) && matroska_doc_type(b, b"webm")
    }),
    ("video/quicktime", mov),
    ("video/x-msvideo", |b| {
        prefix(b, b"RIFF") && at(b, 8, b"AVI")
    }),
    ("video/x-ms-wmv", |b| {
        prefix(
            b,
            &[0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11, 0xA6, 0xD9],
        )
    }),
    ("video/mpeg", |b| {
        b.len() > 3 && b[..3] == [0, 0, 1] && (0xB0..=0xBF).contains(&b[3])
    }),
    ("video/x-flv", |b| prefix(b, &[b'F', b'L', b'V', 0x01])),
    ("video/3gpp", |b| at(b, 4, b"ftyp3gp")),
    // audio
    ("audio/midi", |b| prefix(b, b"MThd")),
    ("audio/mpeg", |b| {
        b.len() > 2 && (prefix(b, b"ID3") || prefix(b, &[0xFF, 0xFB]))
    }),
    ("audio/m4a", |b| {
        b.len() > 10 && (at(b, 4, b"ftypM4A") || prefix(b, b"M4A "))
    }),
    ("audio/ogg", |b| prefix(b, b"OggS")),
    ("audio/x-flac", |b| prefix(b, b"fLaC")),
    ("audio/x-wav", |b| prefix(b, b"RIFF") && at(b, 8, b"WAVE")),
    ("audio/amr", |b| b.len() > 11 && prefix(b, b"#!AMR\n")),
    ("audio/aac", |b| {
        prefix(b, &[0xFF, 0xF1]) || prefix(b, &[0xFF, 0xF9])
    }),
    ("audio/x-aiff", |b| prefix(b, b"FORM") && at(b, 8, b"AIFF")),
    // font
    ("application/font-woff", |b| {
        prefix(b, &[b'w', b'O', b'F', b'F', 0, 1, 0, 0])
    }),
    ("application/font-woff", |b| {
        prefix(b, &[b'w', b'O', b'F', b'2', 0, 1, 0, 0])
    }),
    ("application/font-sfnt", |b| prefix(b, &[0, 1, 0, 0, 0])),
    ("application/font-sfnt", |b| {
        prefix(b, &[b'O', b'T', b'T', b'O', 0])
    }),
    // document
    ("application/msword", |b| ole(b, [0xEC, 0xA5])),
    ("application/vnd.ms-excel", |b| ole(b, [0x09, 0x08])),
    ("application/vnd.ms-powerpoint", |b| ole(b, [0xA0, 0x46])),
    (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        |b| msooxml(b) == Some(Ooxml::Docx),
    ),
    (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        |b| msooxml(b) == Some(Ooxml::Xlsx),
    ),
    (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        |b| msooxml(b) == Some(Ooxml::Pptx),
    ),
    // archive
    ("application/epub+zip", |b| {
        prefix(b, b"PK\x03\x04mimetypeapplication/epub+zip")
    }),
    ("application/zip", |b| {
        b.len() > 3 && b[..2] == *b"PK" && matches!(b[2], 3 | 5 | 7) && matches!(b[3], 4 | 6 | 8)
    }),
    ("application/x-tar", |b| at(b, 257, b"ustar")),
    ("application/vnd.rar", |b| {
        b.len() > 6 && prefix(b, b"Rar!\x1A\x07") && b[6] <= 1
    }),
    ("application/gzip", |b| prefix(b, &[0x1F, 0x8B, 0x08])),
    ("application/x-bzip2", |b| prefix(b, b"BZh")),
    ("application/x-7z-compressed", |b| {
        prefix(b, &[b'7', b'z', 0xBC, 0xAF, 0x27, 0x1C])
    }),
    ("application/x-xz", |b| {
        prefix(b, &[0xFD, b'7', b'z', b'X', b'Z', 0])
    }),
    ("application/zstd", zstd),
    ("application/pdf", |b| prefix(b, b"%PDF")),
    ("application/vnd.microsoft.portable-executable", |b| {
        prefix(b, b"MZ")
    }),
    ("application/x-shockwave-flash", |b| {
        b.len() > 2 && matches!(b[0], b'C' | b'F') && b[1..3] == *b"WS"
    }),
    ("application/rtf", |b| prefix(b, b"{\\rtf")),
    ("application/octet-stream", eot),
    ("application/postscript", |b| prefix(b, b"%!")),
    ("application/vnd.sqlite3", |b| prefix(b, b"SQLi")),
    ("application/x-nintendo-nes-rom", |b| prefix(b, b"NES\x1A")),
    ("application/x-google-chrome-extension", |b| {
        prefix(b, b"Cr24")
    }),
    ("application/vnd.ms-cab-compressed", |b| {
        prefix(b, b"MSCF") || prefix(b, b"ISc(")
    }),
    ("application/vnd.debian.binary-package", |b| {
        prefix(b, b"!<arch>\ndebian-binary")
    }),
    ("application/x-unix-archive", |b| prefix(b, b"!<arch>")),
    ("application/x-compress", |b| {
        prefix(b, &[0x1F, 0xA0]) || prefix(b, &[0x1F, 0x9D])
    }),
    ("application/x-lzip", |b| prefix(b, b"LZIP")),
    ("application/x-rpm", |b| {
        b.len() > 96 && prefix(b, &[0xED, 0xAB, 0xEE, 0xDB])
    }),
    ("application/x-executable", |b| {
        b.len() > 52 && prefix(b, b"\x7FELF")
    }),
    ("application/dicom", |b| at(b, 128, b"DICM")),
    ("application/x-iso9660-image", |b| at(b, 32769, b"CD001")),
    ("application/x-mach-binary", macho),
];

const EBML: &[u8] = &[0x1A, 0x45, 0xDF, 0xA3];

fn prefix(b: &[u8], magic: &[u8]) -> bool {
    b.starts_with(magic)
}

fn at(b: &[u8], offset: usize, magic: &[u8]) -> bool {
    b.get(offset..offset + magic.len()) == Some(magic)
}

fn wasm(b: &[u8]) -> bool {
    prefix(b, b"\0asm\x01\0\0\0")
}

fn dex(b: &[u8]) -> bool {
    b.len() > 36 && prefix(b, b"dex\n") && b[36] == 0x70
}

fn dey(b: &[u8]) -> bool {
    b.len() > 100 && prefix(b, b"dey\n") && dex(&b[40..100])
}

fn tiff_header(b: &[u8]) -> bool {
    prefix(b, &[b'I', b'I', 0x2A, 0]) || prefix(b, &[b'M', b'M', 0, 0x2A])
}

fn cr2(b: &[u8]) -> bool {
    b.len() > 10 && tiff_header(b) && b[8..11] == [b'C', b'R', 0x02]
}

fn u32_be(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

fn u32_le(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

/// filetype's `isobmff.IsISOBMFF` + `GetFtyp` test for HEIF.
fn heif(b: &[u8]) -> bool {
    if b.len() < 16 || &b[4..8] != b"ftyp" {
        return false;
    }
    let ftyp_len = u32_be(b) as usize;
    // GetFtyp returns an empty major brand below 17 bytes.
    if b.len() < ftyp_len || b.len() < 17 {
        return false;
    }
    match &b[8..12] {
        b"heic" => true,
        b"mif1" | b"msf1" => (16..ftyp_len)
            .step_by(4)
            .any(|i| b.get(i..i + 4) == Some(b"heic")),
        _ => false,
    }
}

fn mp4(b: &[u8]) -> bool {
    const BRANDS: [&[u8; 4]; 28] = [
        b"avc1", b"dash", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"isom", b"mmp4", b"mp41",
        b"mp42", b"mp4v", b"mp71", b"MSNV", b"NDAS", b"NDSC", b"NSDC", b"NDSH", b"NDSM", b"NDSP",
        b"NDSS", b"NDXC", b"NDXH", b"NDXM", b"NDXP", b"NDXS", b"F4V ", b"F4P ",
    ];
    b.len() > 11 && &b[4..8] == b"ftyp" && BRANDS.iter().any(|brand| b[8..12] == brand[..])
}

fn mov(b: &[u8]) -> bool {
    b.len() > 15
        && (prefix(b, b"\0\0\0\x14ftyp")
            || &b[4..8] == b"moov"
            || &b[4..8] == b"mdat"
            || &b[12..16] == b"mdat")
}

/// The EBML DocType element (0x42 0x82, length, name) within the first 4 KiB;
/// only the first occurrence of the name counts, as in filetype.
fn matroska_doc_type(b: &[u8], name: &[u8]) -> bool {
    let head = &b[..b.len().min(4096)];
    match memchr::memmem::find(head, name) {
        Some(i) if i >= 3 => head[i - 3] == 0x42 && head[i - 2] == 0x82,
        _ => false,
    }
}

/// OLE2 compound file; the two bytes at 512 tell Word, Excel and
/// PowerPoint apart, but a file of 513 bytes or less matches all three.
fn ole(b: &[u8], sub: [u8; 2]) -> bool {
    let ole = prefix(b, &[0xD0, 0xCF, 0x11, 0xE0]);
    if b.len() > 513 {
        ole && b[512..514] == sub
    } else {
        ole
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ooxml {
    Docx,
    Xlsx,
    Pptx,
    /// A zip that looks like OOXML but names no known part.
    Other,
}

fn ooxml_part(b: &[u8], offset: usize) -> Option<Ooxml> {
    if at(b, offset, b"word/") {
        Some(Ooxml::Docx)
    } else if at(b, offset, b"ppt/") {
        Some(Ooxml::Pptx)
    } else if at(b, offset, b"xl/") {
        Some(Ooxml::Xlsx)
    } else {
        None
    }
}

/// Index of the next zip local file header in `b[start..start+6000]`.
fn next_zip_header(b: &[u8], start: usize) -> Option<usize> {
    let end = start.saturating_add(6000).min(b.len());
    if start >= end {
        return None;
    }
    memchr::memmem::find(&b[start..end], b"PK\x03\x04")
}

/// filetype's `msooxml`: look at the names of the first zip entries.
fn msooxml(b: &[u8]) -> Option<Ooxml> {
    if !prefix(b, b"PK\x03\x04") {
        return None;
    }
    if let Some(t) = ooxml_part(b, 0x1E) {
        return Some(t);
    }
    if !at(b, 0x1E, b"[Content_Types].xml")
        && !at(b, 0x1E, b"_rels/.rels")
        && !at(b, 0x1E, b"docProps")
    {
        return None;
    }
    // Go adds in uint32, so a huge compressed size wraps around.
    let mut start = u32_le(&b[18..22]).wrapping_add(49) as usize;
    let idx = next_zip_header(b, start)?;
    start += idx + 4 + 26;
    let idx = next_zip_header(b, start)?;
    start += idx + 4 + 26;
    if let Some(t) = ooxml_part(b, start) {
        return Some(t);
    }
    // LibreOffice orders entries differently: try the fourth one.
    start += 26;
    let Some(idx) = next_zip_header(b, start) else {
        return Some(Ooxml::Other);
    };
    start += idx + 4 + 26;
    Some(ooxml_part(b, start).unwrap_or(Ooxml::Other))
}

fn eot(b: &[u8]) -> bool {
    b.len() > 35
        && b[34..36] == *b"LP"
        && matches!(
            b[8..11],
            [0x02, 0x00, 0x01] | [0x01, 0x00, 0x00] | [0x02, 0x00, 0x02]
        )
}

/// A zstd frame, possibly after skippable frames.
fn zstd(mut b: &[u8]) -> bool {
    loop {
        if prefix(b, &[0x28, 0xB5, 0x2F, 0xFD]) {
            return true;
        }
        if b.len() < 8 || u32_le(b) & 0xFFFF_FFF0 != 0x184D_2A50 {
            return false;
        }
        let skip = 8 + u32_le(&b[4..]) as usize;
        if b.len() < skip {
            return false;
        }
        b = &b[skip..];
    }
}

fn macho(b: &[u8]) -> bool {
    const MAGICS: [[u8; 4]; 6] = [
        [0xFE, 0xED, 0xFA, 0xCF],
        [0xFE, 0xED, 0xFA, 0xCE],
        [0xBE, 0xBA, 0xFE, 0xCA],
        [0xCF, 0xFA, 0xED, 0xFE],
        [0xCE, 0xFA, 0xED, 0xFE],
        [0xCA, 0xFE, 0xBA, 0xBE],
    ];
    MAGICS.iter().any(|m| prefix(b, m))
}

/// go-is-svg's `Is`: not "binary", and after dropping HTML comments the
/// whole text matches
/// `(?i)^\s*(?:<\?xml[^>]*>\s*)?(?:<!doctype svg[^>]*>\s*)?<svg[^>]*>[^*]*<\/svg>\s*$`.
///
/// The regex is simple enough to decide by hand: every optional part starts
/// with `<`, which whitespace cannot be, and `[^>]*>` can only end at the
/// first `>`, so there is exactly one way to try each step.
fn is_svg(buf: &[u8]) -> bool {
    // Go quirk (spec §5): the check runs `string(buf[i])` on each byte,
    // which turns bytes >= 0x80 into code points U+0080..U+00FF rather than
    // U+FFFD, so only bytes <= 0x08 count as binary, and only when the
    // buffer has at least 24 bytes.
    if buf.len() >= 24 && buf[..24].iter().any(|&b| b <= 8) {
        return false;
    }
    let text = strip_html_comments(buf);
    let t: &[u8] = &text;
    let mut i = skip_space(t, 0);
    for optional in ["<?xml", "<!doctype svg"] {
        if let Some(n) = match_fold(t, i, optional) {
            let Some(close) = memchr::memchr(b'>', &t[i + n..]) else {
                return false;
            };
            i = skip_space(t, i + n + close + 1);
        }
    }
    let Some(n) = match_fold(t, i, "<svg") else {
        return false;
    };
    let Some(close) = memchr::memchr(b'>', &t[i + n..]) else {
        return false;
    };
    let body = &t[i + n + close + 1..];
    let end = body.len() - body.iter().rev().take_while(|&&b| is_space(b)).count();
    let body = &body[..end];
    // `</svg>` must end where the trailing whitespace starts; it is 6 bytes,
    // or 7 when its `s` is the 2-byte U+017F.
    [6, 7].into_iter().any(|len| {
        end >= len
            && match_fold(body, end - len, "</svg>") == Some(len)
            && !body[..end - len].contains(&b'*')
    })
}

/// RE2's `\s`: ASCII only, and not `\v`.
fn is_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | 0x0C | b'\r' | b' ')
}

fn skip_space(t: &[u8], mut i: usize) -> usize {
    while t.get(i).is_some_and(|&b| is_space(b)) {
        i += 1;
    }
    i
}

/// Match an ASCII pattern at `t[i..]` the way Go's `(?i)` does and return
/// the matched length. Go folds case with Unicode simple folding, so `s`
/// also matches U+017F (LATIN SMALL LETTER LONG S) and `k` matches U+212A
/// (KELVIN SIGN).
fn match_fold(t: &[u8], mut i: usize, pat: &str) -> Option<usize> {
    let start = i;
    for p in pat.bytes() {
        let b = *t.get(i)?;
        if b.eq_ignore_ascii_case(&p) {
            i += 1;
        } else if p.eq_ignore_ascii_case(&b's') && t[i..].starts_with("\u{17F}".as_bytes()) {
            i += 2;
        } else if p.eq_ignore_ascii_case(&b'k') && t[i..].starts_with("\u{212A}".as_bytes()) {
            i += 3;
        } else {
            return None;
        }
    }
    Some(i - start)
}

/// Remove every `<!--…-->` (shortest match, left to right), as
/// `htmlCommentRegex.ReplaceAll` does. An unterminated `<!--` stays.
fn strip_html_comments(buf: &[u8]) -> Cow<'_, [u8]> {
    let find = memchr::memmem::find;
    if find(buf, b"<!--").is_none() {
        return Cow::Borrowed(buf);
    }
    let mut out = Vec::with_capacity(buf.len());
    // `from` is where the text not yet copied starts.
    let mut from = 0;
    while let Some(open) = find(&buf[from..], b"<!--").map(|i| from + i)
        && let Some(close) = find(&buf[open + 4..], b"-->").map(|i| open + 4 + i)
    {
        out.extend_from_slice(&buf[from..open]);
        from = close + 3;
    }
    out.extend_from_slice(&buf[from..]);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    // A 1x1 GIF and a 2x2 PNG, as in the conformance cases.
    const GIF: &[u8] = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;";
    const PNG_HEAD: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR";
    const JPEG_HEAD: &[u8] = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01";

    fn svg(s: &str) -> bool {
        is_svg(s.as_bytes())
    }

    #[test]
    fn raster_images() {
        assert_eq!(icon_media_type(GIF), Ok("image/gif"));
        assert_eq!(icon_media_type(PNG_HEAD), Ok("image/png"));
        assert_eq!(icon_media_type(JPEG_HEAD), Ok("image/jpeg"));
        assert_eq!(
            icon_media_type(b"\0\0\x01\0\x01\0\x10\x10"),
            Ok("image/vnd.microsoft.icon")
        );
        assert_eq!(icon_media_type(b"RIFF\x24\0\0\0WEBPVP8 "), Ok("image/webp"));
        assert_eq!(
            icon_media_type(b"II*\0\x08\0\0\0\0\0\0\0"),
            Ok("image/tiff")
        );
        assert_eq!(
            icon_media_type(b"II*\0\x10\0\0\0CR\x02\0"),
            Ok("image/x-canon-cr2")
        );
        let heic = b"\0\0\0\x18ftypmif1\0\0\0\0mif1heic";
        assert_eq!(icon_media_type(heic), Ok("image/heif"));
    }

    #[test]
    fn svg_variants() {
        let plain = r#"<svg viewBox="0 0 100 100"><circle cx="25" cy="25" r="25"/></svg>"#;
        assert_eq!(icon_media_type(plain.as_bytes()), Ok("image/svg+xml"));
        assert!(svg(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>\n"
        ));
        assert!(svg(
            "<?xml version=\"1.0\"?>\n<!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" \"x.dtd\">\n<svg>\n</svg>"
        ));
        assert!(svg(
            "  \r\n<!-- made by hand -->\n<svg><!-- a * in a comment --><g/></svg>\n\t"
        ));
        assert!(svg("<SVG WIDTH=\"1\"></SVG>"));
        assert!(svg("<?XML?><!DocType Svg><Svg></sVg>"));
        // Go's (?i) folds `s` with U+017F.
        assert!(svg("<\u{17F}vg></\u{17F}vg>"));
        // Bytes >= 0x80 are not "binary"; Latin-1 text passes.
        assert!(svg(
            "<svg><text>caf\u{e9}</text>\u{ff}\u{ff}\u{ff}\u{ff}\u{ff}</svg>"
        ));
    }

    #[test]
    fn svg_rejections() {
        assert!(!svg("<svg><style>* { fill: red }</style></svg>"));
        assert!(!svg("<svg></svg> trailing"));
        assert!(!svg("<html><svg></svg></html>"));
        assert!(!svg("<svg"));
        assert!(!svg("<svg>"));
        assert!(!svg("<svg></svg>\x0b"), "\\v is not \\s in RE2");
        assert!(!svg("<!-- unterminated <svg></svg>"));
        assert!(!svg("<?xml version=\"1.0\"?><!doctype html><svg></svg>"));
    }

    #[test]
    fn svg_binary_check_needs_24_bytes() {
        // 23 bytes with control characters: too short to be "binary".
        let short = b"<svg>\x01\x02\x03\x04\x05\x06\x07\x08\x01\x02\x03\x04</svg>";
        assert_eq!(short.len(), 23);
        assert_eq!(icon_media_type(short), Ok("image/svg+xml"));
        // The same shape at 24 bytes is binary, and nothing else matches.
        let long = b"<svg>\x01\x02\x03\x04\x05\x06\x07\x08\x01\x02\x03\x04\x05</svg>";
        assert_eq!(long.len(), 24);
        assert_eq!(icon_media_type(long), Err(IconError::NotAnImage("")));
        // Past byte 24 control characters are fine.
        let late = b"<svg>                   \x01</svg>";
        assert_eq!(icon_media_type(late), Ok("image/svg+xml"));
    }

    #[test]
    fn comments_are_removed_shortest_first() {
        assert_eq!(&*strip_html_comments(b"a<!--x-->b<!--y-->c"), b"abc");
        assert_eq!(&*strip_html_comments(b"a<!-->b-->c"), b"ac");
        assert_eq!(&*strip_html_comments(b"a<!--x"), b"a<!--x");
        assert_eq!(&*strip_html_comments(b"a<!--x-->b<!--y"), b"ab<!--y");
    }

    #[test]
    fn text_empty_and_other_types() {
        assert_eq!(
            icon_media_type(b"# Foo Operator\n"),
            Err(IconError::NotAnImage(""))
        );
        assert_eq!(icon_media_type(b""), Err(IconError::Empty));
        assert_eq!(
            icon_media_type(b"%PDF-1.7\n"),
            Err(IconError::NotAnImage("application/pdf"))
        );
        assert_eq!(
            icon_media_type(b"PK\x03\x04\x14\0"),
            Err(IconError::NotAnImage("application/zip"))
        );
        assert_eq!(
            icon_media_type(b"\0asm\x01\0\0\0WEBP"),
            Err(IconError::NotAnImage("application/wasm"))
        );
        assert_eq!(
            IconError::NotAnImage("").to_string(),
            "detected invalid type \"\": not an image"
        );
        assert_eq!(
            IconError::Empty.to_string(),
            "detect icon mediatype: Empty buffer"
        );
    }

    #[test]
    fn zstd_skippable_frames() {
        let mut b = vec![0x50, 0x2A, 0x4D, 0x18, 2, 0, 0, 0, 9, 9];
        b.extend_from_slice(&[0x28, 0xB5, 0x2F, 0xFD]);
        assert_eq!(match_type(&b), Some("application/zstd"));
        b.truncate(10);
        assert_eq!(match_type(&b), Some(""));
    }
}
