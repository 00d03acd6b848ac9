//! C2SP tlog-checkpoint: `<origin>\n<tree size>\n<base64 root hash>\n`, signed as a note whose key
//! name is the origin.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

use super::merkle::Hash;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

impl Checkpoint {
    pub fn text(&self) -> String {
        format!("{}\n{}\n{}\n", self.origin, self.size, B64.encode(self.root))
    }

    /// Reads a checkpoint body (extension lines after the root are allowed and ignored).
    pub fn parse(text: &str) -> Option<Self> {
        let mut lines = text.split('\n');
        let origin = lines.next().filter(|o| !o.is_empty())?.to_owned();
        let size_text = lines.next()?;
        let size = size_text
            .parse::<u64>()
            .ok()
            .filter(|_| size_text == "0" || !size_text.starts_with('0'))?;
        let root = B64.decode(lines.next()?).ok()?.try_into().ok()?;
        Some(Self { origin, size, root })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_reads_back_what_it_writes() {
        let checkpoint = Checkpoint {
            origin: "defarm.local/log".into(),
            size: 12,
            root: [7; 32],
        };
        let text = checkpoint.text();
        assert_eq!(
            text,
            "defarm.local/log\n12\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n"
        );
        assert_eq!(Checkpoint::parse(&text), Some(checkpoint));
        assert_eq!(
            Checkpoint::parse("o\n012\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n"),
            None
        );
        assert_eq!(Checkpoint::parse("o\n12\nBwcH\n"), None);
    }
}
