//! Secrets generated into `DATA_DIR` for the single-instance (SQLite) mode, so `cargo run` needs
//! no configuration. PostgreSQL mode requires them from the environment instead (see config).

use std::io::Write as _;
use std::path::Path;

use anyhow::Context as _;

/// Reads `DATA_DIR/name`, creating it with `generate()` (readable by the owner only) if missing.
pub fn load_or_create(data_dir: &Path, name: &str, generate: impl FnOnce() -> String) -> anyhow::Result<String> {
    let path = data_dir.join(name);
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim().to_owned();
        if !existing.is_empty() {
            return Ok(existing);
        }
    }
    std::fs::create_dir_all(data_dir).with_context(|| format!("DATA_DIR: cannot create {}", data_dir.display()))?;
    let value = generate();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    match options.open(&path) {
        Ok(mut file) => {
            file.write_all(value.as_bytes())
                .with_context(|| format!("DATA_DIR: cannot write {}", path.display()))?;
            tracing::info!(file = %path.display(), "generated a secret for single-instance mode");
            Ok(value)
        }
        // Another process created it first; use theirs.
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
            Ok(std::fs::read_to_string(&path)?.trim().to_owned())
        }
        Err(err) => Err(err).with_context(|| format!("DATA_DIR: cannot create {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_once_then_reads() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create(dir.path(), "s", || "one".into()).unwrap();
        let second = load_or_create(dir.path(), "s", || "two".into()).unwrap();
        assert_eq!(first, "one");
        assert_eq!(second, "one");
    }

    #[cfg(unix)]
    #[test]
    fn generated_secrets_are_readable_by_the_owner_only() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        load_or_create(dir.path(), "s", || "one".into()).unwrap();
        let mode = std::fs::metadata(dir.path().join("s")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
