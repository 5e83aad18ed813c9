//! Repairs a sequential JPEG whose restart markers are damaged, as libjpeg's resync does:
//! browsers show such a photo (with some grey rows), jpeg-decoder refuses it.
//!
//! Restart markers (`RST0`…`RST7`, in turn) split the entropy-coded data into intervals of
//! `DRI` MCUs that decode independently. Two kinds of damage are mended here, in a copy of
//! the file that jpeg-decoder then reads:
//! - every marker is there but some carry the wrong number: the markers are renumbered
//!   (nothing is lost);
//! - markers are missing (two intervals run together): the numbers of the markers that are
//!   left tell where the gaps are; each run-together stretch is replaced by the same number
//!   of mid-grey intervals (every block: DC difference 0, end of block), which is what
//!   libjpeg shows for the MCUs it skips.
//!
//! Written by hand because no JPEG crate offers error resilience; it touches only the marker
//! structure and synthesises blocks from the file's own Huffman tables.

use crate::recovery::Recovery;

/// A Huffman table as DHT gives it: code counts per length, then the symbols.
#[derive(Debug, Clone)]
struct Table {
    counts: [u8; 16],
    symbols: Vec<u8>,
}

impl Table {
    /// The canonical code of `symbol`: (bits, length).
    fn code(&self, symbol: u8) -> Option<(u16, u8)> {
        let mut code = 0u32;
        let mut k = 0usize;
        for (len, &n) in self.counts.iter().enumerate() {
            for _ in 0..n {
                if self.symbols.get(k) == Some(&symbol) {
                    return Some((code as u16, len as u8 + 1));
                }
                code += 1;
                k += 1;
            }
            code <<= 1;
        }
        None
    }
}

/// A frame component: id and sampling factors.
#[derive(Debug, Clone, Copy)]
struct Component {
    id: u8,
    h: u8,
    v: u8,
}

/// Writes bits MSB first, stuffing a zero byte after every 0xFF.
#[derive(Default)]
struct Bits {
    out: Vec<u8>,
    acc: u32,
    n: u8,
}

impl Bits {
    fn put(&mut self, code: u16, len: u8) {
        for i in (0..len).rev() {
            self.acc = (self.acc << 1) | u32::from((code >> i) & 1);
            self.n += 1;
            if self.n == 8 {
                let byte = self.acc as u8;
                self.out.push(byte);
                if byte == 0xFF {
                    self.out.push(0);
                }
                self.acc = 0;
                self.n = 0;
            }
        }
    }

    /// Pads the last byte with one bits, as JPEG requires before a marker.
    fn finish(mut self) -> Vec<u8> {
        while self.n != 0 {
            self.put(1, 1);
        }
        self.out
    }
}

/// The file's structure up to and including the first scan.
struct Layout {
    width: u32,
    height: u32,
    components: Vec<Component>,
    restart_interval: u32,
    /// Per scan component: frame component index, DC table, AC table.
    scan: Vec<(usize, Table, Table)>,
    /// Where the entropy-coded data of the scan starts.
    data_start: usize,
}

fn be16(b: &[u8], i: usize) -> Option<usize> {
    Some(usize::from(u16::from_be_bytes([
        *b.get(i)?,
        *b.get(i + 1)?,
    ])))
}

/// Reads the segments before the first scan. `None` for anything but a sequential JPEG with
/// a restart interval and well-formed tables.
fn layout(b: &[u8]) -> Option<Layout> {
    let mut dc: [Option<Table>; 4] = Default::default();
    let mut ac: [Option<Table>; 4] = Default::default();
    let mut frame: Option<(u32, u32, Vec<Component>)> = None;
    let mut restart_interval = 0;
    let mut i = 2;
    loop {
        while b.get(i) == Some(&0xFF) && b.get(i + 1) == Some(&0xFF) {
            i += 1;
        }
        if b.get(i) != Some(&0xFF) {
            return None;
        }
        let marker = *b.get(i + 1)?;
        let len = be16(b, i + 2)?;
        let seg = b.get(i + 4..i + 2 + len)?;
        match marker {
            // Baseline or extended sequential, Huffman: the only ones mended here.
            0xC0 | 0xC1 => {
                let height = u32::from(u16::from_be_bytes([*seg.get(1)?, *seg.get(2)?]));
                let width = u32::from(u16::from_be_bytes([*seg.get(3)?, *seg.get(4)?]));
                let n = usize::from(*seg.get(5)?);
                let comps = (0..n)
                    .map(|k| {
                        let c = seg.get(6 + 3 * k..9 + 3 * k)?;
                        Some(Component {
                            id: c[0],
                            h: (c[1] >> 4).max(1),
                            v: (c[1] & 15).max(1),
                        })
                    })
                    .collect::<Option<Vec<_>>>()?;
                frame = Some((width, height, comps));
            }
            0xC2 | 0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => return None,
            0xC4 => {
                let mut t = seg;
                while !t.is_empty() {
                    let class_id = t[0];
                    let counts: [u8; 16] = t.get(1..17)?.try_into().ok()?;
                    let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
                    let symbols = t.get(17..17 + total)?.to_vec();
                    let table = Table { counts, symbols };
                    let slot = usize::from(class_id & 3);
                    if class_id >> 4 == 0 {
                        dc[slot] = Some(table);
                    } else {
                        ac[slot] = Some(table);
                    }
                    t = &t[17 + total..];
                }
            }
            0xDD => restart_interval = u32::try_from(be16(seg, 0)?).ok()?,
            0xDA => {
                let (width, height, components) = frame?;
                let n = usize::from(*seg.first()?);
                let mut scan = Vec::with_capacity(n);
                for k in 0..n {
                    let s = seg.get(1 + 2 * k..3 + 2 * k)?;
                    let index = components.iter().position(|c| c.id == s[0])?;
                    let dc = dc[usize::from(s[1] >> 4) & 3].clone()?;
                    let ac = ac[usize::from(s[1] & 15) & 3].clone()?;
                    scan.push((index, dc, ac));
                }
                if restart_interval == 0 || width == 0 || height == 0 {
                    return None;
                }
                return Some(Layout {
                    width,
                    height,
                    components,
                    restart_interval,
                    scan,
                    data_start: i + 2 + len,
                });
            }
            _ => {}
        }
        i += 2 + len;
    }
}

/// The entropy-coded data of the scan cut at its restart markers: the segments, the number
/// of the marker after each (but the last), and where the scan ends (the next other marker,
/// or the end of the data).
fn split_scan(b: &[u8], start: usize) -> (Vec<std::ops::Range<usize>>, Vec<u8>, usize) {
    let (mut segments, mut numbers) = (Vec::new(), Vec::new());
    let mut seg_start = start;
    let mut i = start;
    while i + 1 < b.len() {
        if b[i] != 0xFF {
            i += 1;
            continue;
        }
        match b[i + 1] {
            0x00 | 0xFF => i += 1,
            m @ 0xD0..=0xD7 => {
                segments.push(seg_start..i);
                numbers.push(m - 0xD0);
                i += 2;
                seg_start = i;
            }
            _ => break,
        }
    }
    let end = if i + 1 < b.len() { i } else { b.len() };
    segments.push(seg_start..end);
    (segments, numbers, end)
}

/// One mid-grey restart interval of `mcus` MCUs: every block codes DC difference 0 and an
/// immediate end of block.
fn grey_interval(l: &Layout, mcus: u32) -> Option<Vec<u8>> {
    let mut per_mcu = Vec::new();
    for (index, dc, ac) in &l.scan {
        let c = l.components[*index];
        let blocks = if l.scan.len() == 1 {
            1
        } else {
            u32::from(c.h) * u32::from(c.v)
        };
        let dc0 = dc.code(0)?;
        let eob = ac.code(0)?;
        for _ in 0..blocks {
            per_mcu.push((dc0, eob));
        }
    }
    let mut bits = Bits::default();
    for _ in 0..mcus {
        for &((dc_code, dc_len), (eob_code, eob_len)) in &per_mcu {
            bits.put(dc_code, dc_len);
            bits.put(eob_code, eob_len);
        }
    }
    Some(bits.finish())
}

/// MCUs in the scan.
fn total_mcus(l: &Layout) -> u64 {
    let hmax = l
        .components
        .iter()
        .map(|c| u32::from(c.h))
        .max()
        .unwrap_or(1);
    let vmax = l
        .components
        .iter()
        .map(|c| u32::from(c.v))
        .max()
        .unwrap_or(1);
    if l.scan.len() == 1 {
        // Non-interleaved: one block per MCU, over the component's own size.
        let c = l.components[l.scan[0].0];
        let w = (l.width * u32::from(c.h)).div_ceil(hmax);
        let h = (l.height * u32::from(c.v)).div_ceil(vmax);
        u64::from(w.div_ceil(8)) * u64::from(h.div_ceil(8))
    } else {
        u64::from(l.width.div_ceil(8 * hmax)) * u64::from(l.height.div_ceil(8 * vmax))
    }
}

/// A repaired copy of `b` and what was done, or `None` when the restart markers are not
/// what is wrong (or the file is not a sequential JPEG with restart intervals).
pub(super) fn repair(b: &[u8]) -> Option<(Vec<u8>, Recovery)> {
    let l = layout(b)?;
    let (segments, numbers, end) = split_scan(b, l.data_start);
    let total = total_mcus(&l);
    let ri = u64::from(l.restart_interval);
    let expected = usize::try_from(total.div_ceil(ri)).ok()?;
    let mcus_in = |interval: usize| -> u32 {
        let before = interval as u64 * ri;
        total.saturating_sub(before).min(ri) as u32
    };
    // Which intervals each segment holds: consecutive when the count is right (then only
    // the numbers are wrong), else told by the numbers of the markers that remain.
    let mut spans: Vec<std::ops::Range<usize>> = Vec::with_capacity(segments.len());
    let recovery = if segments.len() == expected {
        let wrong = numbers
            .iter()
            .enumerate()
            .filter(|&(k, &n)| usize::from(n) != k % 8)
            .count() as u32;
        if wrong == 0 {
            return None;
        }
        spans.extend((0..expected).map(|k| k..k + 1));
        Recovery::RestartMarkersRenumbered { markers: wrong }
    } else if segments.len() < expected {
        let mut first = 0usize;
        for &n in &numbers {
            // The marker after interval k is RST(k % 8): the next segment starts at the
            // first interval past `first` whose preceding marker has this number.
            let skip = (usize::from(n) + 8 - first % 8) % 8;
            let next = first + skip + 1;
            spans.push(first..next);
            first = next;
        }
        if first >= expected {
            return None;
        }
        spans.push(first..expected);
        let grey = spans
            .iter()
            .filter(|s| s.len() > 1)
            .map(|s| s.len() as u32)
            .sum();
        Recovery::RestartIntervalsGrey {
            intervals: grey,
            of: expected as u32,
        }
    } else {
        return None;
    };
    let mut out = b[..l.data_start].to_vec();
    for (k, (seg, span)) in segments.iter().zip(&spans).enumerate() {
        if span.len() == 1 {
            out.extend_from_slice(&b[seg.clone()]);
        } else {
            for (j, interval) in span.clone().enumerate() {
                out.extend_from_slice(&grey_interval(&l, mcus_in(interval))?);
                if j + 1 < span.len() {
                    out.extend_from_slice(&[0xFF, 0xD0 + (interval % 8) as u8]);
                }
            }
        }
        if k + 1 < segments.len() {
            out.extend_from_slice(&[0xFF, 0xD0 + ((span.end - 1) % 8) as u8]);
        }
    }
    out.extend_from_slice(&b[end..]);
    Some((out, recovery))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_codes_follow_the_counts() {
        // Two codes of length 2, one of length 3: 00, 01, 100.
        let mut counts = [0u8; 16];
        counts[1] = 2;
        counts[2] = 1;
        let t = Table {
            counts,
            symbols: vec![5, 0, 9],
        };
        assert_eq!(t.code(5), Some((0b00, 2)));
        assert_eq!(t.code(0), Some((0b01, 2)));
        assert_eq!(t.code(9), Some((0b100, 3)));
        assert_eq!(t.code(7), None);
    }

    #[test]
    fn bits_are_stuffed_and_padded() {
        let mut b = Bits::default();
        b.put(0xFF, 8);
        b.put(0b0, 1);
        assert_eq!(b.finish(), vec![0xFF, 0x00, 0x7F]);
    }

    #[test]
    fn scan_splits_at_restart_markers_only() {
        let b = [
            0xAA, 0xFF, 0x00, 0xFF, 0xD0, 0xBB, 0xFF, 0xD1, 0xCC, 0xFF, 0xD9,
        ];
        let (segs, numbers, end) = split_scan(&b, 0);
        assert_eq!(segs, vec![0..3, 5..6, 8..9]);
        assert_eq!(numbers, vec![0, 1]);
        assert_eq!(end, 9);
    }
}
