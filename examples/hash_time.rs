//! Prints the median time of one argon2id verification (the crate's default parameters, as the
//! service uses them) in milliseconds: the ceiling login throughput is measured against.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};

fn main() {
    let hash = Argon2::default().hash_password(b"Bench-pass1!").unwrap().to_string();
    let parsed = argon2::PasswordHash::new(&hash).unwrap();
    let mut times: Vec<f64> = (0..25)
        .map(|_| {
            let started = std::time::Instant::now();
            Argon2::default().verify_password(b"Bench-pass1!", &parsed).unwrap();
            started.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    println!("{:.2}", times[times.len() / 2]);
}
