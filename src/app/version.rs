//! Build facts for `/version` and the `X-Commit` header.

use crate::adapters::http::BuildInfo;

shadow_rs::shadow!(build);

/// What this binary was built from. `GIT_HASH` / `BUILD_TIME` given at build time win over git.
pub fn build_info() -> BuildInfo {
    let commit = non_empty(env!("DEFARM_OVERRIDE_GIT_HASH"))
        .or_else(|| non_empty(build::COMMIT_HASH))
        .unwrap_or("unknown")
        .to_owned();
    let commit_short = commit.chars().take(8).collect();
    let build_time = non_empty(env!("DEFARM_OVERRIDE_BUILD_TIME"))
        .unwrap_or(build::BUILD_TIME_3339)
        .to_owned();
    BuildInfo {
        service: build::PROJECT_NAME.to_owned(),
        version: build::PKG_VERSION.to_owned(),
        commit,
        commit_short,
        // A build from an override has no work tree to be dirty.
        dirty: non_empty(env!("DEFARM_OVERRIDE_GIT_HASH")).is_none() && !build::GIT_CLEAN,
        branch: non_empty(build::BRANCH).unwrap_or("unknown").to_owned(),
        build_time,
        rust_version: build::RUST_VERSION.to_owned(),
        profile: build::BUILD_RUST_CHANNEL.to_owned(),
    }
}

fn non_empty(value: &'static str) -> Option<&'static str> {
    let value = value.trim();
    (!value.is_empty()).then_some(value)
}
