//! Frame optimisation: what each GIF frame of an animation must store, decided from the
//! screens a viewer should see.
//!
//! Each screen is compared with the canvas the viewer will have when the frame is drawn (the
//! previous screen after its disposal): only the rectangle that changed is stored, identical
//! consecutive screens become one frame with the delays summed, and each frame's disposal
//! (keep, clear to background, restore previous) is the one that leaves the least to store
//! for the next frame. The ideas are the classic ones of GIF optimisers (gifsicle's `-O2`,
//! cgif); this code is written here from the GIF89a rules, because no Rust crate plans frames
//! (the `gif` crate writes what it is given).

use crate::compose::Dispose;
use crate::geometry::Rect;

/// A screen as a viewer sees it: one packed colour per pixel, row by row, `side` × `side`;
/// `0` is transparent, an opaque colour is [`pack`]ed.
pub(crate) type Screen = Vec<u32>;

/// An RGBA pixel as a screen value: `0` when mostly transparent (alpha < 128, as GIF has
/// only on/off transparency), else the opaque colour.
pub(crate) fn pack(px: &[u8]) -> u32 {
    if px[3] < 128 {
        0
    } else {
        u32::from_le_bytes([px[0], px[1], px[2], 255])
    }
}

/// The RGB of a packed opaque colour.
pub(crate) fn unpack(c: u32) -> [u8; 3] {
    let b = c.to_le_bytes();
    [b[0], b[1], b[2]]
}

/// One GIF frame, planned: where it goes, what it must show there and what is under it.
#[derive(Debug)]
pub(crate) struct Planned {
    pub(crate) rect: Rect,
    /// The screen inside `rect`, row by row.
    pub(crate) cur: Vec<u32>,
    /// The canvas inside `rect` before the frame is drawn. Where `cur` equals it, the frame
    /// may store the transparent index instead (the writer tries both).
    pub(crate) under: Vec<u32>,
    /// Milliseconds (identical screens that followed are merged into it).
    pub(crate) delay_ms: u64,
    pub(crate) dispose: Dispose,
}

/// The screen waiting for the next one (its disposal depends on it).
struct Pending {
    screen: Screen,
    delay_ms: u64,
    /// What differs from the canvas under it (1×1 at the origin when nothing does).
    changed: Rect,
}

/// Plans frames one screen at a time; holds one screen back.
pub(crate) struct Planner {
    side: usize,
    /// The canvas before the pending screen's frame is drawn.
    base: Screen,
    pending: Option<Pending>,
    /// Scratch for the "clear to background" candidate.
    scratch: Screen,
}

impl Planner {
    pub(crate) fn new(side: u32) -> Planner {
        let side = side as usize;
        Planner {
            side,
            base: vec![0; side * side],
            pending: None,
            scratch: Vec::new(),
        }
    }

    /// Adds the next screen (`side` × `side`) shown for `delay_ms`; returns the frame before
    /// it once that is settled.
    pub(crate) fn push(&mut self, screen: Screen, delay_ms: u32) -> Option<Planned> {
        if let Some(p) = &mut self.pending {
            if p.screen == screen {
                p.delay_ms += u64::from(delay_ms);
                return None;
            }
        }
        let (out, changed) = match self.pending.take() {
            Some(p) => {
                let (planned, changed) = self.settle(p, Some(&screen));
                (Some(planned), changed)
            }
            None => (None, bbox_diff(&self.base, &screen, self.side)),
        };
        self.pending = Some(Pending {
            screen,
            delay_ms: u64::from(delay_ms),
            changed: changed.unwrap_or(Rect::new(0, 0, 1, 1)),
        });
        out
    }

    /// The last frame.
    pub(crate) fn finish(&mut self) -> Option<Planned> {
        let p = self.pending.take()?;
        Some(self.settle(p, None).0)
    }

    /// Chooses `p`'s disposal from `next`, moves the canvas on, and returns `p`'s frame and
    /// what `next` changes on the new canvas.
    fn settle(&mut self, p: Pending, next: Option<&Screen>) -> (Planned, Option<Rect>) {
        let s = self.side;
        let Some(next) = next else {
            let planned = self.planned(&p, p.changed, Dispose::Keep);
            return (planned, None);
        };
        let area = |r: Option<Rect>| r.map_or(0, |r| u64::from(r.w) * u64::from(r.h));
        // A transparent pixel cannot erase an opaque one: a disposal is possible only if it
        // leaves transparent every pixel that `next` shows transparent.
        let keep_ok = !clears(&p.screen, next);
        let prev_ok = !clears(&self.base, next);
        let mut best: Option<(u64, Dispose, Rect, Option<Rect>)> = None;
        let mut consider = |cost: u64, d: Dispose, rect: Rect, changed: Option<Rect>| {
            if best.as_ref().is_none_or(|b| cost < b.0) {
                best = Some((cost, d, rect, changed));
            }
        };
        if keep_ok {
            let changed = bbox_diff(&p.screen, next, s);
            consider(area(changed), Dispose::Keep, p.changed, changed);
        }
        if prev_ok {
            let changed = bbox_diff(&self.base, next, s);
            consider(area(changed), Dispose::Previous, p.changed, changed);
        }
        // Clear to background: the frame's rectangle grows to cover what must be erased.
        let rect = match bbox_where(&p.screen, next, s, |a, b| a != 0 && b == 0) {
            Some(erase) => union(p.changed, erase),
            None => p.changed,
        };
        self.scratch.clear();
        self.scratch.extend_from_slice(&p.screen);
        fill(&mut self.scratch, s, rect, 0);
        let changed = bbox_diff(&self.scratch, next, s);
        // The grown part is stored too (mostly as the transparent index: cheap, not free).
        let grown = (area(Some(rect)) - area(Some(p.changed))) / 2;
        consider(area(changed) + grown, Dispose::Background, rect, changed);
        let Some((_, dispose, rect, changed)) = best else {
            unreachable!("clearing to background is always possible")
        };
        let planned = self.planned(&p, rect, dispose);
        match dispose {
            Dispose::Keep => self.base = p.screen,
            Dispose::Background => std::mem::swap(&mut self.base, &mut self.scratch),
            Dispose::Previous => {}
        }
        (planned, changed)
    }

    fn planned(&self, p: &Pending, rect: Rect, dispose: Dispose) -> Planned {
        Planned {
            rect,
            cur: crop(&p.screen, self.side, rect),
            under: crop(&self.base, self.side, rect),
            delay_ms: p.delay_ms,
            dispose,
        }
    }
}

/// Whether some pixel opaque in `from` is transparent in `to`. Runs twice per frame over
/// the whole screen: blocks of 64 pixels are tested without short-circuiting (so the
/// compiler vectorises them), and the search stops at the first block with a hit.
fn clears(from: &[u32], to: &[u32]) -> bool {
    const BLOCK: usize = 64;
    let hit = |a: &[u32], b: &[u32]| {
        a.iter()
            .zip(b)
            .fold(false, |acc, (&p, &q)| acc | ((p != 0) & (q == 0)))
    };
    let (fa, fb) = (from.chunks_exact(BLOCK), to.chunks_exact(BLOCK));
    let (ra, rb) = (fa.remainder(), fb.remainder());
    fa.zip(fb).any(|(a, b)| hit(a, b)) || hit(ra, rb)
}

/// The smallest rectangle holding every pixel that differs between `a` and `b`.
pub(crate) fn bbox_diff(a: &[u32], b: &[u32], side: usize) -> Option<Rect> {
    bbox_where(a, b, side, |p, q| p != q)
}

/// The smallest rectangle holding every pixel where `hit(a, b)`; only rows that differ are
/// searched (equal rows are skipped with one slice comparison).
fn bbox_where(a: &[u32], b: &[u32], side: usize, hit: impl Fn(u32, u32) -> bool) -> Option<Rect> {
    let (mut x0, mut x1, mut y0, mut y1) = (side, 0, None, 0);
    for (y, (ra, rb)) in a.chunks_exact(side).zip(b.chunks_exact(side)).enumerate() {
        if ra == rb {
            continue;
        }
        let mut pairs = ra.iter().zip(rb);
        let Some(first) = pairs.position(|(&p, &q)| hit(p, q)) else {
            continue;
        };
        let last = ra
            .iter()
            .zip(rb)
            .rposition(|(&p, &q)| hit(p, q))
            .unwrap_or(first);
        y0.get_or_insert(y);
        y1 = y + 1;
        x0 = x0.min(first);
        x1 = x1.max(last + 1);
    }
    let y0 = y0?;
    Some(Rect::new(
        x0 as u32,
        y0 as u32,
        (x1 - x0) as u32,
        (y1 - y0) as u32,
    ))
}

fn union(a: Rect, b: Rect) -> Rect {
    let (x0, y0) = (a.x.min(b.x), a.y.min(b.y));
    let (x1, y1) = ((a.x + a.w).max(b.x + b.w), (a.y + a.h).max(b.y + b.h));
    Rect::new(x0, y0, x1 - x0, y1 - y0)
}

/// The pixels of `r`, row after row. (Row slices copied whole: a `flat_map(..).copied()`
/// collect went pixel by pixel and was 15 % of mixed/'s GIF time.)
fn crop(screen: &[u32], side: usize, r: Rect) -> Vec<u32> {
    let (x, w) = (r.x as usize, r.w as usize);
    let mut out = Vec::with_capacity(w * r.h as usize);
    for row in screen
        .chunks_exact(side)
        .skip(r.y as usize)
        .take(r.h as usize)
    {
        out.extend_from_slice(&row[x..x + w]);
    }
    out
}

fn fill(screen: &mut [u32], side: usize, r: Rect, v: u32) {
    let (x, w) = (r.x as usize, r.w as usize);
    for row in screen
        .chunks_exact_mut(side)
        .skip(r.y as usize)
        .take(r.h as usize)
    {
        row[x..x + w].fill(v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: u32 = 0xff00_00ff;
    const B: u32 = 0xff00_ff00;

    /// Replays planned frames as a viewer does and returns the screens shown.
    fn replay(side: usize, frames: &[Planned]) -> Vec<(Screen, u64)> {
        let mut canvas = vec![0u32; side * side];
        let mut shown = Vec::new();
        for f in frames {
            let before = canvas.clone();
            let (x, y, w) = (f.rect.x as usize, f.rect.y as usize, f.rect.w as usize);
            for (k, (&c, &u)) in f.cur.iter().zip(&f.under).enumerate() {
                let at = (y + k / w) * side + x + k % w;
                assert_eq!(canvas[at], u, "`under` is the canvas");
                assert!(c != 0 || u == 0, "a transparent pixel cannot erase");
                canvas[at] = c;
            }
            shown.push((canvas.clone(), f.delay_ms));
            match f.dispose {
                Dispose::Keep => {}
                Dispose::Background => fill(&mut canvas, side, f.rect, 0),
                Dispose::Previous => canvas = before,
            }
        }
        shown
    }

    #[test]
    fn clears_finds_the_one_erased_pixel_anywhere() {
        // 67² = 4489 pixels: 70 blocks of 64 and a remainder of 9.
        let n = 67 * 67;
        let from = vec![A; n];
        assert!(!clears(&from, &from));
        assert!(!clears(&vec![0; n], &vec![0; n]));
        for at in [0, 63, 64, 2000, 4479, 4480, n - 1] {
            let mut to = vec![B; n];
            to[at] = 0;
            assert!(clears(&from, &to), "pixel {at}");
            // Transparent in both: nothing is erased.
            let mut from = from.clone();
            from[at] = 0;
            assert!(!clears(&from, &to), "pixel {at}");
        }
    }

    fn screen(side: usize, f: impl Fn(usize, usize) -> u32) -> Screen {
        (0..side * side).map(|i| f(i % side, i / side)).collect()
    }

    #[test]
    fn frames_store_only_the_change_and_replay_exactly() {
        let side = 16;
        let screens: Vec<Screen> = vec![
            screen(side, |_, _| A),
            screen(
                side,
                |x, y| if (3..5).contains(&x) && y == 7 { B } else { A },
            ),
            // Identical: merged.
            screen(
                side,
                |x, y| if (3..5).contains(&x) && y == 7 { B } else { A },
            ),
            // A hole to transparent: needs a disposal that clears.
            screen(side, |x, y| if x < 4 && y < 2 { 0 } else { A }),
            screen(side, |x, _| if x == 15 { B } else { 0 }),
            screen(side, |_, _| 0),
            screen(side, |x, y| if x == 1 && y == 1 { A } else { 0 }),
        ];
        let mut p = Planner::new(side as u32);
        let mut frames: Vec<Planned> = screens
            .iter()
            .enumerate()
            .filter_map(|(i, s)| p.push(s.clone(), 10 * (i as u32 + 1)))
            .collect();
        frames.extend(p.finish());
        assert_eq!(frames.len(), 6);
        assert_eq!(frames[0].rect, Rect::new(0, 0, 16, 16));
        // The change is 2x1, grown to clear the next screen's hole.
        assert_eq!(frames[1].rect, Rect::new(0, 0, 5, 8));
        assert_eq!(frames[1].dispose, Dispose::Background);
        assert_eq!(frames[1].delay_ms, 20 + 30);
        let shown = replay(side, &frames);
        let expected: Vec<&Screen> = [0, 1, 3, 4, 5, 6].iter().map(|&i| &screens[i]).collect();
        for (k, ((got, _), want)) in shown.iter().zip(expected).enumerate() {
            assert_eq!(got, want, "screen {k}");
        }
        assert_eq!(frames.iter().map(|f| f.delay_ms).sum::<u64>(), 280);
    }

    #[test]
    fn restore_previous_is_chosen_for_a_sprite_over_a_still() {
        let side = 32;
        let bg = screen(side, |x, y| (x * 7 + y * 3) as u32 | 0xff00_0000);
        let with_sprite = |at: usize| {
            let mut s = bg.clone();
            s[at] = B;
            s
        };
        let mut p = Planner::new(side as u32);
        let mut frames: Vec<Planned> = [bg.clone(), with_sprite(40), with_sprite(500)]
            .into_iter()
            .filter_map(|s| p.push(s, 10))
            .collect();
        frames.extend(p.finish());
        assert_eq!(frames[1].dispose, Dispose::Previous);
        assert_eq!((frames[2].rect.w, frames[2].rect.h), (1, 1));
        let shown = replay(side, &frames);
        assert_eq!(shown[2].0, with_sprite(500));
    }
}
