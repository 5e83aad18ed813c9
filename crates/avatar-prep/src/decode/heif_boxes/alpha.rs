//! The alpha grid of a grid image. zenavif-parse finds a grid's alpha item but gives only
//! its grid descriptor, not its tiles, so they are found here, from the same boxes the walk
//! already checked (every tile inside the file, the coded bytes of every grid counted).

use std::borrow::Cow;

use super::{children, corrupt, parse_meta, references, Prop, Walk};

/// An alpha plane coded as a grid: `rows` × `columns` tiles (their OBUs, in raster order)
/// of a `width` × `height` image.
#[derive(Debug)]
pub(in crate::decode) struct AlphaGrid<'a> {
    pub rows: usize,
    pub columns: usize,
    pub width: u32,
    pub height: u32,
    pub tiles: Vec<Cow<'a, [u8]>>,
}

/// The alpha grid of the primary item when that is a grid and its alpha auxiliary image
/// (`auxl` to the primary, `auxC` naming alpha) is a grid too; `None` otherwise (no alpha,
/// a single alpha item, or no grid at all). At most `max_tiles` tiles are taken.
pub(in crate::decode) fn alpha_grid(file: &[u8], max_tiles: usize) -> Walk<Option<AlphaGrid<'_>>> {
    let top = children(file, true)?;
    let Some((_, meta, _)) = top.iter().find(|(k, _, _)| k == b"meta") else {
        return Ok(None);
    };
    let m = parse_meta(meta)?;
    let Some(primary) = m.primary else {
        return Ok(None);
    };
    if m.types.get(&primary) != Some(b"grid") {
        return Ok(None);
    }
    let iref = m.iref.unwrap_or_default();
    let alpha = references(iref, b"auxl")?
        .into_iter()
        .find(|(from, to)| {
            *from != primary
                && to.contains(&primary)
                && m.props_of(*from).any(|p| p == Prop::AlphaAux)
        })
        .map(|(from, _)| from);
    let Some(alpha) = alpha.filter(|a| m.types.get(a) == Some(b"grid")) else {
        return Ok(None);
    };
    let (rows, columns, width, height) = m.grid(file, alpha)?;
    let dimg = references(iref, b"dimg")?;
    let ids = dimg.get(&alpha).map_or(&[][..], Vec::as_slice);
    if rows * columns > max_tiles {
        return corrupt(format!("an alpha grid of {} tiles", rows * columns));
    }
    if ids.len() != rows * columns {
        return corrupt(format!(
            "the alpha grid is {rows}x{columns} but references {} tiles",
            ids.len()
        ));
    }
    let mut tiles = Vec::with_capacity(ids.len());
    for &id in ids {
        if m.types.get(&id) != Some(b"av01") {
            return corrupt(format!(
                "the alpha grid references item {id}, not an AV1 image"
            ));
        }
        tiles.push(m.data(file, id)?);
    }
    Ok(Some(AlphaGrid {
        rows,
        columns,
        width,
        height,
        tiles,
    }))
}
