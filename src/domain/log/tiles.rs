//! C2SP tlog-tiles paths: `tile/<L>/<N>[.p/<W>]` and `tile/entries/<N>[.p/<W>]`, height 8.

pub const TILE_WIDTH: u64 = 256;
/// A tile spans 8 levels of the tree: tile level `L` holds tree level `8 L`.
pub const TILE_HEIGHT: u8 = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TileKind {
    /// Hashes at tile level `L` (0 to 63).
    Hashes(u8),
    Entries,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tile {
    pub kind: TileKind,
    pub index: u64,
    /// `Some(W)` for a partial tile of `W` (1 to 255) items.
    pub partial: Option<u64>,
}

impl Tile {
    /// Parses the path segments after `tile/`; `None` for anything the spec does not allow.
    pub fn parse(segments: &[&str]) -> Option<Self> {
        let (first, rest) = segments.split_first()?;
        let kind = match *first {
            "entries" => TileKind::Entries,
            level => TileKind::Hashes(decimal(level).filter(|l| *l < 64)? as u8),
        };
        let (index_parts, partial) = match rest.split_last() {
            Some((width, parts)) if parts.last().is_some_and(|p| p.ends_with(".p")) => {
                let width = decimal(width).filter(|w| (1..TILE_WIDTH).contains(w))?;
                let mut parts = parts.to_vec();
                let last = parts.pop()?;
                parts.push(last.strip_suffix(".p")?);
                (parts, Some(width))
            }
            _ => (rest.to_vec(), None),
        };
        let index = index_of(&index_parts)?;
        Some(Self { kind, index, partial })
    }

    /// Items in the tile: 256, or the partial width.
    pub fn width(&self) -> u64 {
        self.partial.unwrap_or(TILE_WIDTH)
    }

    /// The tree level of the tile's hashes (0 for entries).
    pub fn tree_level(&self) -> u8 {
        match self.kind {
            TileKind::Hashes(level) => level * TILE_HEIGHT,
            TileKind::Entries => 0,
        }
    }

    /// The first and one-past-last index, at the tile's tree level, of the tile's items.
    pub fn items(&self) -> (u64, u64) {
        let first = self.index.saturating_mul(TILE_WIDTH);
        (first, first.saturating_add(self.width()))
    }
}

fn decimal(text: &str) -> Option<u64> {
    let plain = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) && (text == "0" || !text.starts_with('0'));
    plain.then(|| text.parse().ok()).flatten()
}

/// `x001/x234/067` into 1234067: 3-digit groups, all but the last prefixed with `x`.
fn index_of(parts: &[&str]) -> Option<u64> {
    let (last, before) = parts.split_last()?;
    // One spelling per index: no leading all-zero group.
    if before.first() == Some(&"x000") {
        return None;
    }
    let mut index: u64 = 0;
    for group in before.iter().map(|p| p.strip_prefix('x')).chain([Some(*last)]) {
        let digits = group?;
        if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        index = index.checked_mul(1000)?.checked_add(digits.parse::<u64>().ok()?)?;
    }
    Some(index)
}

/// The path segments of `index`: 1234067 as `x001/x234/067`.
pub fn index_path(index: u64) -> String {
    let mut groups = vec![format!("{:03}", index % 1000)];
    let mut rest = index / 1000;
    while rest > 0 {
        groups.push(format!("x{:03}", rest % 1000));
        rest /= 1000;
    }
    groups.reverse();
    groups.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(path: &str) -> Option<Tile> {
        Tile::parse(&path.split('/').collect::<Vec<_>>())
    }

    #[test]
    fn reads_the_spec_paths() {
        assert_eq!(index_path(1_234_067), "x001/x234/067");
        assert_eq!(index_path(5), "005");
        assert_eq!(
            parse("0/x001/x234/067"),
            Some(Tile {
                kind: TileKind::Hashes(0),
                index: 1_234_067,
                partial: None
            })
        );
        assert_eq!(
            parse("2/000.p/1"),
            Some(Tile {
                kind: TileKind::Hashes(2),
                index: 0,
                partial: Some(1)
            })
        );
        assert_eq!(
            parse("entries/x001/002.p/255"),
            Some(Tile {
                kind: TileKind::Entries,
                index: 1002,
                partial: Some(255)
            })
        );
        for bad in [
            "0/1",
            "00/000",
            "64/000",
            "0/x000/001",
            "0/000.p/0",
            "0/000.p/256",
            "0/000.p/01",
            "0/001/002",
            "x/000",
            "0/",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
        let tile = parse("1/003.p/17").unwrap();
        assert_eq!((tile.tree_level(), tile.items()), (8, (768, 785)));
    }
}
