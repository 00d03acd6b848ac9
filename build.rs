//! Build-time facts for `/version`: shadow-rs reads git and cargo; `GIT_HASH` and `BUILD_TIME`,
//! when set, replace the git commit and the build time so an image built without `.git` (Docker)
//! still reports what it was built from.

use shadow_rs::{BuildPattern, ShadowBuilder};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    for var in ["GIT_HASH", "BUILD_TIME"] {
        let value = std::env::var(var).unwrap_or_default();
        println!("cargo:rustc-env=DEFARM_OVERRIDE_{var}={}", value.trim());
    }
    // Rerun when the commit or the work tree changes, in debug builds as well as release ones,
    // so `/version` never reports a stale commit.
    let pattern = BuildPattern::Custom {
        if_path_changed: vec![".git/HEAD".into(), ".git/index".into(), ".git/refs/heads".into()],
        if_env_changed: vec!["GIT_HASH".into(), "BUILD_TIME".into()],
    };
    ShadowBuilder::builder().build_pattern(pattern).build()?;
    Ok(())
}
