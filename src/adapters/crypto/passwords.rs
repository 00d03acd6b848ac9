use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use argon2::password_hash::phc::{Output, ParamsString, Salt};
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, Version};
use rand::Rng as _;
use tokio::sync::{Semaphore, oneshot};
use tracing::Instrument as _;

use crate::domain::identity::ports::{PasswordCheck, PasswordHasher};
use crate::domain::{Error, Result};

/// How many hashes may run at once and how long a caller may wait for a slot.
#[derive(Debug, Clone, Copy)]
pub struct HashLimits {
    pub concurrency: usize,
    pub queue_timeout: Duration,
}

/// argon2id hashing on `concurrency` threads of its own behind a semaphore. A caller that cannot
/// get a slot in time gets 503 instead of queueing without end; async workers never hash, and
/// neither does tokio's blocking pool, whose hundreds of threads would each keep argon2 memory.
pub struct PasswordHashing {
    threads: HashThreads,
    slots: Arc<Semaphore>,
    /// Half the slots (at least one), which suspect checks must also hold.
    suspect_slots: Arc<Semaphore>,
    limits: HashLimits,
    waiting: AtomicI64,
    dummy_hash: String,
    /// Labels this hasher's metrics (`login` or `access_password`).
    name: &'static str,
}

impl PasswordHashing {
    /// Computes the dummy hash once (one argon2id hash, a few ms in release builds).
    pub fn new(limits: HashLimits, name: &'static str) -> anyhow::Result<Self> {
        // Hashed in passing memory: kept memory on this thread would stay resident for nothing.
        let dummy_hash = hash_argon2(
            &crate::domain::secrets::random_token(24),
            |argon2, password, salt, out| argon2.hash_password_into(password, salt, out),
        )?;
        Ok(Self {
            threads: HashThreads::start(limits.concurrency, name)?,
            slots: Arc::new(Semaphore::new(limits.concurrency)),
            suspect_slots: Arc::new(Semaphore::new((limits.concurrency / 2).max(1))),
            limits,
            waiting: AtomicI64::new(0),
            dummy_hash,
            name,
        })
    }

    async fn run<T: Send + 'static>(&self, op: &'static str, work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        self.run_in(op, false, work).await
    }

    /// One verification, in the suspects' half of the slots when `suspect`.
    async fn verify_in(&self, suspect: bool, password: String, hash: String) -> Result<PasswordCheck> {
        self.run_in("verify", suspect, move || verify(&password, &hash))
            .instrument(tracing::debug_span!("password.verify"))
            .await?
    }

    /// Runs `work` once it holds a slot, and for a `suspect` caller one of the suspects' slots
    /// first, all within one `queue_timeout`.
    async fn run_in<T: Send + 'static>(
        &self,
        op: &'static str,
        suspect: bool,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T> {
        let queued = Instant::now();
        let deadline = tokio::time::Instant::now() + self.limits.queue_timeout;
        let depth = self.waiting.fetch_add(1, Ordering::Relaxed) + 1;
        metrics::gauge!("defarm_password_hash_queue_depth", "hasher" => self.name).set(depth as f64);
        let permit = async {
            let suspect_permit = if suspect {
                Some(tokio::time::timeout_at(deadline, self.suspect_slots.clone().acquire_owned()).await??)
            } else {
                None
            };
            let permit = tokio::time::timeout_at(deadline, self.slots.clone().acquire_owned()).await??;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>((permit, suspect_permit))
        }
        .await;
        let depth = self.waiting.fetch_sub(1, Ordering::Relaxed) - 1;
        metrics::gauge!("defarm_password_hash_queue_depth", "hasher" => self.name).set(depth as f64);
        metrics::histogram!("defarm_password_hash_wait_seconds", "hasher" => self.name)
            .record(queued.elapsed().as_secs_f64());
        let permit = match permit {
            Ok(permits) => permits,
            Err(_) => {
                metrics::counter!("defarm_password_hash_rejected_total", "hasher" => self.name).increment(1);
                return Err(Error::unavailable(
                    "overloaded",
                    "too many password checks in progress; retry shortly",
                    1,
                ));
            }
        };
        let span = tracing::debug_span!("password", op);
        let started = Instant::now();
        let outcome = self
            .threads
            .run(move || {
                let _permit = permit;
                work()
            })
            .instrument(span)
            .await;
        metrics::histogram!("defarm_password_hash_seconds", "hasher" => self.name, "op" => op)
            .record(started.elapsed().as_secs_f64());
        outcome
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// A fixed set of threads that run hashing jobs, so the argon2 memory each keeps (see [`BLOCKS`])
/// is bounded by the thread count whatever the load. A thread idle for [`KEEP_MEMORY_FOR`] gives
/// its memory back. The threads end when this is dropped.
struct HashThreads {
    jobs: flume::Sender<Job>,
}

/// How long an idle hashing thread keeps its argon2 memory for the next job.
const KEEP_MEMORY_FOR: Duration = Duration::from_secs(5);

impl HashThreads {
    fn start(count: usize, name: &str) -> anyhow::Result<Self> {
        // The semaphore admits at most `count` jobs at once, so the queue never fills.
        let (jobs, queue) = flume::bounded::<Job>(count);
        for index in 0..count {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("hash-{name}-{index}"))
                .spawn(move || {
                    loop {
                        let job = match queue.recv_timeout(KEEP_MEMORY_FOR) {
                            Ok(job) => job,
                            Err(flume::RecvTimeoutError::Timeout) => {
                                BLOCKS.with_borrow_mut(|memory| *memory = Vec::new());
                                match queue.recv() {
                                    Ok(job) => job,
                                    Err(flume::RecvError::Disconnected) => return,
                                }
                            }
                            Err(flume::RecvTimeoutError::Disconnected) => return,
                        };
                        job();
                    }
                })?;
        }
        Ok(Self { jobs })
    }

    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        let (done, outcome) = oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = done.send(work());
        });
        self.jobs
            .try_send(job)
            .map_err(|e| Error::internal(format!("password hashing queue refused a job: {e}")))?;
        outcome
            .await
            .map_err(|_| Error::internal("a password hashing thread stopped"))
    }
}

/// How argon2 computes an output: `(argon2, password, salt, out)`.
type Compute = fn(&Argon2<'_>, &[u8], &[u8], &mut [u8]) -> argon2::Result<()>;

/// A new argon2id hash (default parameters, a random 16-byte salt) in PHC form.
fn hash_argon2(password: &str, compute: Compute) -> anyhow::Result<String> {
    let argon2 = Argon2::default();
    let params = argon2.params().clone();
    let mut salt = [0_u8; 16];
    rand::rng().fill(&mut salt);
    let mut output = vec![0_u8; params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN)];
    let argon = |e: &dyn std::fmt::Display| anyhow::anyhow!("argon2: {e}");
    compute(&argon2, password.as_bytes(), &salt, &mut output).map_err(|e| argon(&e))?;
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::default().into()),
        params: ParamsString::try_from(&params).map_err(|e| argon(&e))?,
        salt: Some(Salt::new(&salt).map_err(|e| argon(&e))?),
        hash: Some(Output::new(&output).map_err(|e| argon(&e))?),
    };
    Ok(hash.to_string())
}

fn is_bcrypt(hash: &str) -> bool {
    ["$2a$", "$2b$", "$2y$"].iter().any(|prefix| hash.starts_with(prefix))
}

fn verify(password: &str, hash: &str) -> Result<PasswordCheck> {
    if is_bcrypt(hash) {
        return match bcrypt::verify(password, hash) {
            Ok(true) => Ok(PasswordCheck::Match { needs_rehash: true }),
            Ok(false) => Ok(PasswordCheck::Mismatch),
            Err(e) => Err(Error::internal(format!("stored bcrypt hash is unreadable: {e}"))),
        };
    }
    let unreadable = |e: &dyn std::fmt::Display| Error::internal(format!("stored hash is unreadable: {e}"));
    let parsed = PasswordHash::new(hash).map_err(|e| unreadable(&e))?;
    Ok(
        if argon2_matches(password.as_bytes(), &parsed).map_err(|e| unreadable(&e))? {
            PasswordCheck::Match { needs_rehash: false }
        } else {
            PasswordCheck::Mismatch
        },
    )
}

thread_local! {
    /// argon2's working memory (19 MiB with the default parameters), kept by each hashing thread.
    /// Allocated and faulted in afresh for every verification, it doubled a login's time.
    static BLOCKS: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Recomputes the stored argon2 hash's output for `password` (with its algorithm, version,
/// parameters and salt) in this thread's kept memory, and compares in constant time.
fn argon2_matches(password: &[u8], stored: &PasswordHash) -> std::result::Result<bool, String> {
    let params = Params::try_from(stored).map_err(|e| e.to_string())?;
    let algorithm = Algorithm::try_from(stored.algorithm.as_str()).map_err(|e| e.to_string())?;
    let version = stored
        .version
        .map(Version::try_from)
        .transpose()
        .map_err(|e| e.to_string())?
        .unwrap_or_default();
    let (Some(salt), Some(expected)) = (&stored.salt, &stored.hash) else {
        return Err("no salt or no hash".to_owned());
    };
    let mut computed = vec![0u8; expected.len()];
    in_kept_memory(
        &Argon2::new(algorithm, version, params),
        password,
        salt.as_ref(),
        &mut computed,
    )
    .map_err(|e| e.to_string())?;
    Ok(Output::new(&computed).map_err(|e| e.to_string())? == *expected)
}

/// Runs argon2 in this thread's kept memory, growing it when the parameters need more.
fn in_kept_memory(argon2: &Argon2<'_>, password: &[u8], salt: &[u8], out: &mut [u8]) -> argon2::Result<()> {
    let blocks = argon2.params().block_count();
    BLOCKS.with_borrow_mut(|memory| {
        memory.resize(blocks.max(memory.len()), Block::default());
        argon2.hash_password_into_with_memory(password, salt, out, &mut memory[..blocks])
    })
}

#[async_trait::async_trait]
impl PasswordHasher for PasswordHashing {
    async fn hash(&self, password: String) -> Result<String> {
        self.run("hash", move || hash_argon2(&password, in_kept_memory))
            .instrument(tracing::debug_span!("password.hash"))
            .await?
            .map_err(|e| Error::internal(e.to_string()))
    }

    async fn verify(&self, password: String, hash: String) -> Result<PasswordCheck> {
        self.verify_in(false, password, hash).await
    }

    async fn verify_dummy(&self, password: String) -> Result<()> {
        self.verify_in(false, password, self.dummy_hash.clone())
            .await
            .map(|_| ())
    }

    async fn verify_suspect(&self, password: String, hash: String) -> Result<PasswordCheck> {
        self.verify_in(true, password, hash).await
    }

    async fn verify_dummy_suspect(&self, password: String) -> Result<()> {
        self.verify_in(true, password, self.dummy_hash.clone())
            .await
            .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hasher(concurrency: usize, timeout_ms: u64) -> PasswordHashing {
        PasswordHashing::new(
            HashLimits {
                concurrency,
                queue_timeout: Duration::from_millis(timeout_ms),
            },
            "test",
        )
        .unwrap()
    }

    #[tokio::test]
    async fn argon2id_round_trip() {
        let hasher = hasher(2, 5_000);
        let hash = hasher.hash("Correct!horse1".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert_eq!(
            hasher.verify("Correct!horse1".into(), hash.clone()).await.unwrap(),
            PasswordCheck::Match { needs_rehash: false }
        );
        assert_eq!(
            hasher.verify("wrong".into(), hash).await.unwrap(),
            PasswordCheck::Mismatch
        );
    }

    /// The PHC string this writes is what argon2's own verifier reads.
    #[test]
    fn new_hashes_verify_with_the_argon2_crate() {
        use argon2::PasswordVerifier as _;
        let hash = hash_argon2("Correct!horse1", in_kept_memory).unwrap();
        let parsed = PasswordHash::new(&hash).unwrap();
        assert!(Argon2::default().verify_password(b"Correct!horse1", &parsed).is_ok());
        assert!(Argon2::default().verify_password(b"Correct!horse2", &parsed).is_err());
        assert_ne!(
            hash,
            hash_argon2("Correct!horse1", in_kept_memory).unwrap(),
            "each hash has its own salt"
        );
    }

    /// Every job runs on one of the hasher's own threads, never on tokio's blocking pool, and
    /// twenty jobs use no more threads than the concurrency.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn jobs_run_on_exactly_the_hashers_threads() {
        let hasher = Arc::new(hasher(3, 10_000));
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let hasher = hasher.clone();
            tasks.push(tokio::spawn(async move {
                hasher
                    .run("verify", || {
                        std::thread::sleep(Duration::from_millis(5));
                        std::thread::current().name().map(str::to_owned)
                    })
                    .await
            }));
        }
        let mut names = std::collections::HashSet::new();
        for task in tasks {
            names.insert(task.await.unwrap().unwrap().unwrap());
        }
        assert!(names.iter().all(|name| name.starts_with("hash-test-")), "{names:?}");
        assert!(names.len() <= 3, "{names:?}");
    }

    #[tokio::test]
    async fn legacy_bcrypt_verifies_and_asks_for_rehash() {
        let hasher = hasher(2, 5_000);
        for legacy in [
            bcrypt::hash("Old!pass1", 4).unwrap(),
            bcrypt::hash("Old!pass1", 4).unwrap().replacen("$2b$", "$2y$", 1),
        ] {
            assert_eq!(
                hasher.verify("Old!pass1".into(), legacy.clone()).await.unwrap(),
                PasswordCheck::Match { needs_rehash: true }
            );
            assert_eq!(
                hasher.verify("nope".into(), legacy).await.unwrap(),
                PasswordCheck::Mismatch
            );
        }
    }

    /// Six suspect checks and two clean ones started together on four slots: the suspects never
    /// run more than two at a time, and the clean ones take the other two at once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn suspect_checks_hold_at_most_half_the_slots() {
        let hasher = Arc::new(hasher(4, 10_000));
        let counters = Arc::new([
            AtomicI64::new(0),
            AtomicI64::new(0),
            AtomicI64::new(0),
            AtomicI64::new(0),
        ]);
        let mut tasks = Vec::new();
        for suspect in [true, true, true, true, true, true, false, false] {
            let (hasher, counters) = (hasher.clone(), counters.clone());
            tasks.push(tokio::spawn(async move {
                hasher
                    .run_in("verify", suspect, move || {
                        let [suspects_now, most_suspects, all_now, most_of_all] = &*counters;
                        if suspect {
                            let current = suspects_now.fetch_add(1, Ordering::SeqCst) + 1;
                            most_suspects.fetch_max(current, Ordering::SeqCst);
                        }
                        let current = all_now.fetch_add(1, Ordering::SeqCst) + 1;
                        most_of_all.fetch_max(current, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(100));
                        all_now.fetch_sub(1, Ordering::SeqCst);
                        if suspect {
                            suspects_now.fetch_sub(1, Ordering::SeqCst);
                        }
                    })
                    .await
            }));
        }
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        assert_eq!(
            counters[1].load(Ordering::SeqCst),
            2,
            "suspects never hold more than half"
        );
        assert_eq!(counters[3].load(Ordering::SeqCst), 4, "clean checks ran beside them");
    }

    #[tokio::test]
    async fn full_queue_answers_503_quickly() {
        let hasher = Arc::new(hasher(1, 1));
        let busy = hasher.clone();
        // Hold the only slot with a slow bcrypt verification.
        let slow = bcrypt::hash("x", 12).unwrap();
        let holder = tokio::spawn(async move { busy.verify("x".into(), slow).await });
        tokio::time::sleep(Duration::from_millis(20)).await;
        let err = hasher.verify_dummy("y".into()).await.unwrap_err();
        assert_eq!(err.code, "overloaded");
        assert_eq!(err.retry_after_secs, Some(1));
        holder.await.unwrap().unwrap();
    }
}
