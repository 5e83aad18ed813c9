//! A walk over the HEIF boxes (HEIC and AVIF) that says what the primary image will cost,
//! before the decoder copies anything: the item (following `iden` items to their source), its
//! `ispe` size or the grid's output size, the grid's tiles, and how many coded bytes they are.
//!
//! heic-decoder's own parser copies every tile's bytes before it looks at the sizes, and a
//! grid may name the same 1 MB tile 65 536 times: this walk sees that first. zenavif-parse does
//! not expose the primary item's `ispe`, and checks its own memory budget only as it goes. It reads only
//! what it needs, bounds every loop by the bytes it consumes, and keeps nothing in proportion
//! to anything but the file's length.

use std::collections::BTreeMap;

/// The alpha grid of a grid image (AVIF): built on this walk's parsed boxes.
#[cfg(feature = "avif")]
pub(super) mod alpha;

/// Why the walk stopped.
#[derive(Debug)]
pub(super) enum BoxError {
    /// The file ends inside a box, or an item's data lies past the end.
    Truncated(&'static str),
    /// The boxes contradict each other or themselves.
    Corrupt(String),
    /// No `meta` box but a `moov`: an image sequence without a still image.
    NoStill,
}

type Walk<T> = Result<T, BoxError>;

fn corrupt<T>(what: impl Into<String>) -> Walk<T> {
    Err(BoxError::Corrupt(what.into()))
}

/// What the primary image is made of.
#[derive(Debug, Clone, Default)]
pub(super) struct Primary {
    /// The item that holds the pixels: the primary item, or the source of its `iden` chain.
    pub item_type: [u8; 4],
    /// The declared size: `ispe` of that item, or the grid's output size.
    pub size: Option<(u32, u32)>,
    /// The tiles of a grid (empty for a single coded image).
    pub tiles: usize,
    /// Sum of the tiles' `ispe` areas (0 when not declared).
    pub tile_pixels: u64,
    /// The area the tiles cover: columns × the widest tile, rows × the tallest (what an
    /// error about `tile_pixels` names).
    pub tile_extent: (u32, u32),
    /// The coded bytes the decoder will copy for the grids: every grid's tiles (the primary's,
    /// an alpha grid's), plus the primary item's own when it is not a grid.
    pub coded_bytes: u64,
    /// The bytes of every item's extents, added up.
    pub item_bytes: u64,
}

/// A big-endian reader over one box body.
struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn new(b: &'a [u8]) -> Reader<'a> {
        Reader { b, at: 0 }
    }
    fn take(&mut self, n: usize) -> Walk<&'a [u8]> {
        let s = self
            .b
            .get(self.at..self.at.saturating_add(n))
            .ok_or(BoxError::Corrupt("a box is shorter than its fields".into()))?;
        self.at += n;
        Ok(s)
    }
    /// An unsigned integer of `n` bytes (0 to 8).
    fn uint(&mut self, n: usize) -> Walk<u64> {
        Ok(self
            .take(n)?
            .iter()
            .fold(0u64, |v, &b| (v << 8) | u64::from(b)))
    }
    fn u8(&mut self) -> Walk<u8> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Walk<u32> {
        self.uint(2).map(|v| v as u32)
    }
    fn u32(&mut self) -> Walk<u32> {
        self.uint(4).map(|v| v as u32)
    }
    /// An item ID: 16 bits in version 0 boxes, 32 bits after.
    fn id(&mut self, wide: bool) -> Walk<u32> {
        if wide {
            self.u32()
        } else {
            self.u16()
        }
    }
    fn fourcc(&mut self) -> Walk<[u8; 4]> {
        let s = self.take(4)?;
        Ok([s[0], s[1], s[2], s[3]])
    }
    /// A full box's version (the flags are returned too).
    fn full(&mut self) -> Walk<(u8, u32)> {
        let v = self.u8()?;
        let flags = self.uint(3)? as u32;
        Ok((v, flags))
    }
}

/// A child box: its type, its body, where the body starts in the parent's.
type Child<'a> = ([u8; 4], &'a [u8], usize);

/// The child boxes of `body` as (type, body, start of body in `body`). `top` marks the file
/// level, where a box running past the end means the file was cut.
fn children(body: &[u8], top: bool) -> Walk<Vec<Child<'_>>> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while at < body.len() {
        let mut r = Reader::new(&body[at..]);
        let cut = |what| {
            if top {
                BoxError::Truncated(what)
            } else {
                BoxError::Corrupt(format!("{what} (inside its parent)"))
            }
        };
        let (Ok(size), Ok(kind)) = (r.u32(), r.fourcc()) else {
            return Err(cut("the data ends inside a box header"));
        };
        let (header, size) = match size {
            0 => (8, (body.len() - at) as u64),
            1 => (
                16,
                r.uint(8)
                    .map_err(|_| cut("the data ends inside a box header"))?,
            ),
            n => (8, u64::from(n)),
        };
        if size < header {
            return corrupt(format!("a box smaller than its header ({size} bytes)"));
        }
        // Compared with what is left rather than added to `at`: a 64-bit `largesize` near
        // u64::MAX would wrap the sum.
        if size > (body.len() - at) as u64 {
            return Err(cut("the data ends inside a box"));
        }
        let end = at + size as usize;
        out.push((kind, &body[at + header as usize..end], at + header as usize));
        at = end;
    }
    Ok(out)
}

/// One `iloc` entry: construction method (0: file offsets, 1: `idat`) and its extents.
#[derive(Debug, Default)]
struct Location {
    method: u8,
    extents: Vec<(u64, u64)>,
}

fn parse_iloc(body: &[u8]) -> Walk<BTreeMap<u32, Location>> {
    let mut r = Reader::new(body);
    let (v, _) = r.full()?;
    if v > 2 {
        return corrupt(format!("iloc version {v}"));
    }
    let sizes = r.u8()?;
    let (offset_size, length_size) = (usize::from(sizes >> 4), usize::from(sizes & 15));
    let sizes = r.u8()?;
    let base_size = usize::from(sizes >> 4);
    let index_size = if v >= 1 { usize::from(sizes & 15) } else { 0 };
    if [offset_size, length_size, base_size, index_size]
        .iter()
        .any(|&s| !matches!(s, 0 | 4 | 8))
    {
        return corrupt("iloc field sizes other than 0, 4 or 8");
    }
    let count = if v < 2 { r.u16()? } else { r.u32()? };
    let mut map = BTreeMap::new();
    for _ in 0..count {
        let id = r.id(v == 2)?;
        let method = if v >= 1 { (r.u16()? & 15) as u8 } else { 0 };
        let _data_reference = r.u16()?;
        let base = r.uint(base_size)?;
        let extents = r.u16()?;
        let mut loc = Location {
            method,
            extents: Vec::new(),
        };
        // Every extent consumes bytes, unless all its fields are 0 bytes wide: then 65 535
        // of them cost nothing here and a megabyte in heic-decoder's parser.
        if offset_size + length_size + index_size == 0 && extents > 1 {
            return corrupt("iloc extents of zero bytes");
        }
        for _ in 0..extents {
            r.uint(index_size)?;
            let offset = r.uint(offset_size)?;
            let length = r.uint(length_size)?;
            loc.extents.push((base.saturating_add(offset), length));
        }
        map.insert(id, loc);
    }
    Ok(map)
}

/// The auxiliary-type URNs of an alpha plane: MPEG-B's (AVIF, MIAF) and HEVC's.
const ALPHA_URNS: [&[u8]; 2] = [
    b"urn:mpeg:mpegB:cicp:systems:auxiliary:alpha",
    b"urn:mpeg:hevc:2015:auxid:1",
];

/// The references of type `kind` (`dimg`, `auxl`, …) in `iref`: each referring item's
/// targets (the first box of that type per item).
fn references(iref: &[u8], kind: &[u8; 4]) -> Walk<BTreeMap<u32, Vec<u32>>> {
    let mut map = BTreeMap::new();
    if iref.is_empty() {
        return Ok(map);
    }
    let mut r = Reader::new(iref);
    let (v, _) = r.full()?;
    for (k, body, _) in children(&iref[r.at..], false)? {
        if &k != kind {
            continue;
        }
        let mut r = Reader::new(body);
        let source = r.id(v != 0)?;
        let count = r.u16()?;
        let mut to = Vec::with_capacity(count as usize);
        for _ in 0..count {
            to.push(r.id(v != 0)?);
        }
        map.entry(source).or_insert(to);
    }
    Ok(map)
}

/// The boxes of `meta` this walk uses.
#[derive(Default)]
struct Meta<'a> {
    primary: Option<u32>,
    types: BTreeMap<u32, [u8; 4]>,
    locations: BTreeMap<u32, Location>,
    iref: Option<&'a [u8]>,
    idat: &'a [u8],
    /// The properties of `ipco` this walk reads (1-based index - 1).
    props: Vec<Prop>,
    /// Property indices (1-based) of each item.
    assoc: BTreeMap<u32, Vec<u16>>,
}

/// An `ipco` property, as far as this walk cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prop {
    /// `ispe`: width and height.
    Ispe(u32, u32),
    /// `auxC` naming an alpha plane (MPEG-B's URN, as AVIF writes it, or HEVC's).
    AlphaAux,
    Other,
}

impl<'a> Meta<'a> {
    fn props_of(&self, item: u32) -> impl Iterator<Item = Prop> + '_ {
        let indices = self.assoc.get(&item).map_or(&[][..], Vec::as_slice);
        indices.iter().filter_map(|&i| {
            let i = usize::from(i).checked_sub(1)?;
            self.props.get(i).copied()
        })
    }

    fn ispe_of(&self, item: u32) -> Option<(u32, u32)> {
        self.props_of(item).find_map(|p| match p {
            Prop::Ispe(w, h) => Some((w, h)),
            _ => None,
        })
    }

    /// The grid descriptor of `item` (ISO/IEC 23008-12 6.6.2.3): version, flags, rows - 1,
    /// columns - 1, output width and height (16 or 32 bits), as (rows, columns, width,
    /// height).
    fn grid(&self, file: &'a [u8], item: u32) -> Walk<(usize, usize, u32, u32)> {
        let data = self.data(file, item)?;
        let mut r = Reader::new(&data);
        let (_, flags) = (r.u8()?, r.u8()?);
        let (rows, columns) = (usize::from(r.u8()?) + 1, usize::from(r.u8()?) + 1);
        let (w, h) = if flags & 1 != 0 {
            (r.u32()?, r.u32()?)
        } else {
            (r.u16()?, r.u16()?)
        };
        Ok((rows, columns, w, h))
    }

    /// The bytes of `item`: its extents, checked to lie inside the file (or `idat`), joined.
    fn data(&self, file: &'a [u8], item: u32) -> Walk<std::borrow::Cow<'a, [u8]>> {
        let loc = self
            .locations
            .get(&item)
            .ok_or_else(|| BoxError::Corrupt(format!("item {item} has no location")))?;
        let source = if loc.method == 1 { self.idat } else { file };
        let extent = |&(offset, length): &(u64, u64)| {
            usize::try_from(offset)
                .ok()
                .zip(usize::try_from(length).ok())
                .and_then(|(o, l)| source.get(o..o.checked_add(l)?))
                .ok_or(if loc.method == 1 {
                    BoxError::Corrupt(format!("item {item} lies outside idat"))
                } else {
                    BoxError::Truncated("the data ends before the image data")
                })
        };
        // Extents may repeat each other: more than the source holds is refused before
        // anything is joined.
        let total = loc.extents.iter().fold(0u64, |s, e| s.saturating_add(e.1));
        if total > source.len() as u64 {
            return corrupt(format!("item {item} is longer than the file"));
        }
        match loc.extents.as_slice() {
            [] => corrupt(format!("item {item} has no data")),
            [one] => Ok(extent(one)?.into()),
            many => {
                let mut joined = Vec::new();
                for e in many {
                    joined.extend_from_slice(extent(e)?);
                }
                Ok(joined.into())
            }
        }
    }
}

fn parse_meta(body: &[u8]) -> Walk<Meta<'_>> {
    let mut m = Meta::default();
    let inner = body
        .get(4..)
        .ok_or(BoxError::Truncated("an empty meta box"))?;
    for (kind, b, _) in children(inner, false)? {
        let mut r = Reader::new(b);
        match &kind {
            b"pitm" => {
                let (v, _) = r.full()?;
                m.primary = Some(r.id(v != 0)?);
            }
            b"iinf" => {
                let (v, _) = r.full()?;
                let _count = r.id(v != 0)?;
                for (kind, infe, _) in children(&b[r.at..], false)? {
                    let mut r = Reader::new(infe);
                    let (v, _) = r.full()?;
                    if &kind != b"infe" || v < 2 {
                        continue;
                    }
                    let id = r.id(v == 3)?;
                    let _protection = r.u16()?;
                    m.types.insert(id, r.fourcc()?);
                }
            }
            b"iloc" => m.locations = parse_iloc(b)?,
            b"iref" => m.iref = Some(b),
            b"idat" => m.idat = b,
            b"iprp" => {
                for (kind, p, _) in children(b, false)? {
                    match &kind {
                        b"ipco" => {
                            for (kind, prop, _) in children(p, false)? {
                                m.props.push(match &kind {
                                    b"ispe" => {
                                        let mut r = Reader::new(prop);
                                        r.full()?;
                                        Prop::Ispe(r.u32()?, r.u32()?)
                                    }
                                    b"auxC" => {
                                        let urn = prop.get(4..).unwrap_or_default();
                                        let urn = urn.split(|&b| b == 0).next().unwrap_or_default();
                                        if ALPHA_URNS.contains(&urn) {
                                            Prop::AlphaAux
                                        } else {
                                            Prop::Other
                                        }
                                    }
                                    _ => Prop::Other,
                                });
                            }
                        }
                        b"ipma" => {
                            let mut r = Reader::new(p);
                            let (v, flags) = r.full()?;
                            for _ in 0..r.u32()? {
                                let id = r.id(v != 0)?;
                                let n = r.u8()?;
                                let mut props = Vec::with_capacity(usize::from(n));
                                for _ in 0..n {
                                    props.push(if flags & 1 != 0 {
                                        (r.u16()? & 0x7FFF) as u16
                                    } else {
                                        u16::from(r.u8()? & 0x7F)
                                    });
                                }
                                m.assoc.entry(id).or_insert(props);
                            }
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    Ok(m)
}

/// Walks the file's boxes and describes its primary image. `max_tiles` bounds the grid
/// before anything is kept per tile; every tile must be a coded image of type `tile_type`
/// (`hvc1`, `av01`).
pub(super) fn primary(file: &[u8], max_tiles: usize, tile_type: &[u8; 4]) -> Walk<Primary> {
    let top = children(file, true)?;
    let Some((_, meta, _)) = top.iter().find(|(k, _, _)| k == b"meta") else {
        return Err(if top.iter().any(|(k, _, _)| k == b"moov") {
            BoxError::NoStill
        } else {
            BoxError::Truncated("the data ends before the meta box")
        });
    };
    let m = parse_meta(meta)?;
    let mut item = m
        .primary
        .ok_or(BoxError::Corrupt("no primary item".into()))?;
    let dimg = references(m.iref.unwrap_or_default(), b"dimg")?;
    let sources = |id: u32| dimg.get(&id).map_or(&[][..], Vec::as_slice);
    // Identity-derived items: follow to the source (heic-decoder stops at 32 steps).
    for _ in 0..33 {
        if m.types.get(&item) != Some(b"iden") {
            break;
        }
        item = match sources(item) {
            &[source] => source,
            _ => return corrupt("an iden item without exactly one source"),
        };
    }
    let item_type = *m
        .types
        .get(&item)
        .ok_or_else(|| BoxError::Corrupt(format!("the primary item {item} is not listed")))?;
    let mut p = Primary {
        item_type,
        size: m.ispe_of(item),
        ..Primary::default()
    };
    // The bytes of one item, checked to lie inside the file (or `idat`).
    let bytes_of = |id: u32| -> Walk<u64> {
        let loc = m
            .locations
            .get(&id)
            .ok_or_else(|| BoxError::Corrupt(format!("item {id} has no location")))?;
        let room = if loc.method == 1 {
            m.idat.len()
        } else {
            file.len()
        } as u64;
        let mut sum = 0u64;
        for &(offset, length) in &loc.extents {
            if offset.saturating_add(length) > room {
                return Err(if loc.method == 1 {
                    BoxError::Corrupt(format!("item {id} lies outside idat"))
                } else {
                    BoxError::Truncated("the data ends before the image data")
                });
            }
            sum = sum.saturating_add(length);
        }
        Ok(sum)
    };
    p.item_bytes = m
        .locations
        .values()
        .flat_map(|l| &l.extents)
        .fold(0u64, |sum, &(_, length)| sum.saturating_add(length));
    // Every grid the decoder may assemble (the primary, an alpha grid): its tile count and
    // the bytes it copies, with tiles counted as often as they are named.
    for (&id, _) in m.types.iter().filter(|(_, t)| *t == b"grid") {
        let tiles = sources(id);
        if tiles.len() > max_tiles {
            p.tiles = tiles.len();
            return Ok(p);
        }
        if id != item {
            for &tile in tiles {
                let length = m.locations.get(&tile).map_or(0, |l| {
                    l.extents.iter().fold(0u64, |s, e| s.saturating_add(e.1))
                });
                p.coded_bytes = p.coded_bytes.saturating_add(length);
            }
        }
    }
    if &item_type != b"grid" {
        p.coded_bytes = p.coded_bytes.saturating_add(bytes_of(item)?);
        return Ok(p);
    }
    bytes_of(item)?;
    let (rows, columns, w, h) = m.grid(file, item)?;
    p.size = Some((w, h));
    p.tiles = rows * columns;
    if p.tiles > max_tiles {
        return Ok(p);
    }
    let tiles = sources(item);
    if tiles.len() != p.tiles {
        return corrupt(format!(
            "the grid is {rows}x{columns} but references {} tiles",
            tiles.len()
        ));
    }
    let mut tile_max = (0u32, 0u32);
    for &id in tiles {
        match m.types.get(&id) {
            None => return corrupt(format!("the grid references a missing tile (item {id})")),
            Some(t) if t == tile_type => {}
            Some(t) => {
                return corrupt(format!(
                    "a grid tile of type {}",
                    String::from_utf8_lossy(t)
                ))
            }
        }
        p.coded_bytes = p.coded_bytes.saturating_add(bytes_of(id)?);
        if let Some((tw, th)) = m.ispe_of(id) {
            p.tile_pixels = p.tile_pixels.saturating_add(u64::from(tw) * u64::from(th));
            tile_max = (tile_max.0.max(tw), tile_max.1.max(th));
        }
    }
    let cover = |n: usize, side: u32| u32::try_from(n).map_or(u32::MAX, |n| n.saturating_mul(side));
    p.tile_extent = (cover(columns, tile_max.0), cover(rows, tile_max.1));
    Ok(p)
}

/// The most samples any track of an image sequence (`moov`) declares, from its sample-size
/// (`stsz`) and time-to-sample (`stts`) tables; 0 without a `moov`. A constant-size `stsz` of a
/// dozen bytes may claim 60 million samples, for which a parser builds a table before it counts
/// them: this is read first.
#[cfg(feature = "avif")]
pub(super) fn sequence_samples(file: &[u8]) -> Walk<u64> {
    let mut most = 0u64;
    let top = children(file, true)?;
    for (_, moov, _) in top.iter().filter(|(k, _, _)| k == b"moov") {
        for (_, trak, _) in children(moov, false)?.iter().filter(|c| &c.0 == b"trak") {
            let Some(stbl) = path(trak, &[b"mdia", b"minf", b"stbl"])? else {
                continue;
            };
            for (kind, body, _) in children(stbl, false)? {
                let mut r = Reader::new(body);
                let n = match &kind {
                    b"stsz" => {
                        r.full()?;
                        r.u32()?; // sample size
                        u64::from(r.u32()?)
                    }
                    b"stts" => {
                        r.full()?;
                        let entries = r.u32()?;
                        let mut sum = 0u64;
                        // Bounded by the box: each entry is 8 bytes read here.
                        for _ in 0..entries {
                            sum = sum.saturating_add(u64::from(r.u32()?));
                            r.u32()?;
                        }
                        sum
                    }
                    _ => 0,
                };
                most = most.max(n);
            }
        }
    }
    Ok(most)
}

/// The body of the box at `names` below `body` (the first of each name), if there is one.
#[cfg(feature = "avif")]
fn path<'a>(body: &'a [u8], names: &[&[u8; 4]]) -> Walk<Option<&'a [u8]>> {
    let mut at = body;
    for name in names {
        match children(at, false)?.into_iter().find(|c| &&c.0 == name) {
            Some((_, b, _)) => at = b,
            None => return Ok(None),
        }
    }
    Ok(Some(at))
}
