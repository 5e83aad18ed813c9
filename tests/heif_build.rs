//! HEIF files built in code for the hostile-input tests of HEIC and AVIF: items with `ispe`,
//! grids of tiles, and every box boundary of a file (for truncations). The boxes are what
//! ISO/IEC 23008-12 describes, minimal: no codec configuration, which the decoders' limit
//! checks never reach.

/// An ISO BMFF full box: size, `kind`, version, 24-bit flags, then `body`.
pub fn full_box(kind: &[u8; 4], version: u8, flags: u32, body: &[u8]) -> Vec<u8> {
    let mut b = Vec::with_capacity(body.len() + 12);
    b.extend_from_slice(&((body.len() + 12) as u32).to_be_bytes());
    b.extend_from_slice(kind);
    b.push(version);
    b.extend_from_slice(&flags.to_be_bytes()[1..]);
    b.extend_from_slice(body);
    b
}

/// An ISO BMFF box: size, `kind`, then `body`.
pub fn plain_box(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut b = Vec::with_capacity(body.len() + 8);
    b.extend_from_slice(&((body.len() + 8) as u32).to_be_bytes());
    b.extend_from_slice(kind);
    b.extend_from_slice(body);
    b
}

/// One item of a built file: its ID, type, `ispe`, and where its data is in `mdat`.
pub struct Item {
    /// The item ID.
    pub id: u16,
    /// The item type (`av01`, `hvc1`, `grid`, …).
    pub kind: [u8; 4],
    /// The `ispe` property: width and height.
    pub ispe: Option<(u32, u32)>,
    /// Where the item's data is, relative to the `mdat` body.
    pub data: std::ops::Range<u32>,
}

/// A HEIF file with `brand` (its major brand, and its coded item type, for the grid builder):
/// `items`, primary item 1, `dimg` references from item 1 to `tiles`, and an
/// `mdat` of `mdat` bytes. Item data offsets are relative to the `mdat` body.
pub fn heif(brand: (&[u8; 4], &[u8; 4]), items: &[Item], tiles: &[u16], mdat: &[u8]) -> Vec<u8> {
    let build = |mdat_at: u32| {
        let mut infe = Vec::new();
        for it in items {
            let mut body = it.id.to_be_bytes().to_vec();
            body.extend_from_slice(&[0, 0]);
            body.extend_from_slice(&it.kind);
            body.push(0);
            infe.extend(full_box(b"infe", 2, 0, &body));
        }
        let mut iinf = (items.len() as u16).to_be_bytes().to_vec();
        iinf.extend(infe);
        let mut ipco = Vec::new();
        let mut ipma = (items.len() as u32).to_be_bytes().to_vec();
        for it in items {
            ipma.extend_from_slice(&it.id.to_be_bytes());
            match it.ispe {
                Some((w, h)) => {
                    let mut body = w.to_be_bytes().to_vec();
                    body.extend_from_slice(&h.to_be_bytes());
                    ipco.extend(full_box(b"ispe", 0, 0, &body));
                    // 15-bit property indices (ipma flags 1): files of more than 127
                    // items name properties past what 7 bits hold.
                    let index = ipco_count(&ipco) as u16;
                    ipma.push(1);
                    ipma.extend_from_slice(&(0x8000 | index).to_be_bytes());
                }
                None => ipma.push(0),
            }
        }
        let mut iloc = vec![0x44, 0x00];
        iloc.extend_from_slice(&(items.len() as u16).to_be_bytes());
        for it in items {
            iloc.extend_from_slice(&it.id.to_be_bytes());
            iloc.extend_from_slice(&[0, 0, 0, 1]);
            iloc.extend_from_slice(&(mdat_at + it.data.start).to_be_bytes());
            iloc.extend_from_slice(&(it.data.end - it.data.start).to_be_bytes());
        }
        let mut iref = Vec::new();
        if !tiles.is_empty() {
            let mut body = 1u16.to_be_bytes().to_vec();
            body.extend_from_slice(&(tiles.len() as u16).to_be_bytes());
            for t in tiles {
                body.extend_from_slice(&t.to_be_bytes());
            }
            iref = full_box(b"iref", 0, 0, &plain_box(b"dimg", &body));
        }
        let mut meta = full_box(b"hdlr", 0, 0, b"\0\0\0\0pict\0\0\0\0\0\0\0\0\0\0\0\0\0");
        meta.extend(full_box(b"pitm", 0, 0, &1u16.to_be_bytes()));
        meta.extend(full_box(b"iinf", 0, 0, &iinf));
        meta.extend(iref);
        let mut iprp = plain_box(b"ipco", &ipco);
        iprp.extend(full_box(b"ipma", 0, 1, &ipma));
        meta.extend(plain_box(b"iprp", &iprp));
        meta.extend(full_box(b"iloc", 0, 0, &iloc));
        let mut ftyp = brand.0.to_vec();
        ftyp.extend_from_slice(b"\0\0\0\0mif1");
        ftyp.extend_from_slice(brand.0);
        let mut file = plain_box(b"ftyp", &ftyp);
        file.extend(full_box(b"meta", 0, 0, &meta));
        file
    };
    let head = build(0).len() as u32 + 8;
    let mut file = build(head);
    file.extend(plain_box(b"mdat", mdat));
    file
}

/// How many boxes `ipco`'s body holds so far (each `ispe` is 20 bytes).
fn ipco_count(ipco: &[u8]) -> usize {
    ipco.len() / 20
}

/// A grid descriptor: `rows` × `columns`, 32-bit output size.
pub fn grid_descriptor(rows: u16, columns: u16, width: u32, height: u32) -> Vec<u8> {
    let mut d = vec![0, 1, (rows - 1) as u8, (columns - 1) as u8];
    d.extend_from_slice(&width.to_be_bytes());
    d.extend_from_slice(&height.to_be_bytes());
    d
}

/// A grid of `rows` × `columns` tiles of `tile`² (items 2…), each `tile_bytes` of data; with
/// `shared`, every tile points at the same bytes.
pub fn grid_file(
    brand: (&[u8; 4], &[u8; 4]),
    rows: u16,
    columns: u16,
    out: (u32, u32),
    tile: u32,
    shared: bool,
) -> Vec<u8> {
    let n = rows * columns;
    let tile_bytes = 256u32;
    let mut mdat = grid_descriptor(rows, columns, out.0, out.1);
    let mut items = vec![Item {
        id: 1,
        kind: *b"grid",
        ispe: Some(out),
        data: 0..mdat.len() as u32,
    }];
    for i in 0..n {
        let start = if shared && i > 0 {
            items[1].data.start
        } else {
            let at = mdat.len() as u32;
            mdat.extend(std::iter::repeat_n(0x55u8, tile_bytes as usize));
            at
        };
        items.push(Item {
            id: 2 + i,
            kind: *brand.1,
            ispe: Some((tile, tile)),
            data: start..start + tile_bytes,
        });
    }
    let tiles: Vec<u16> = (2..2 + n).collect();
    heif(brand, &items, &tiles, &mdat)
}

/// Every box boundary of the file, nested ones included (for boxes that contain boxes).
pub fn box_boundaries(b: &[u8], start: usize, end: usize, out: &mut Vec<usize>) {
    let mut at = start;
    while at + 8 <= end {
        let size = u32::from_be_bytes(b[at..at + 4].try_into().unwrap()) as usize;
        let kind = &b[at + 4..at + 8];
        if size < 8 || at + size > end {
            return;
        }
        out.push(at);
        let body = match kind {
            b"meta" | b"iinf" | b"iref" => Some(at + 12),
            b"iprp" | b"ipco" | b"dinf" | b"moov" | b"trak" | b"mdia" | b"minf" | b"stbl" => {
                Some(at + 8)
            }
            _ => None,
        };
        if let Some(body) = body {
            // iinf has an entry count after its version and flags.
            let body = if kind == b"iinf" { body + 2 } else { body };
            box_boundaries(b, body, at + size, out);
        }
        at += size;
    }
    out.push(at);
}
