//! Images already allowed, so that the pods of a Deployment's rollout (and every restart) are
//! not verified again: an allowed image (by digest) under one version of the policies, for a
//! time (`--cache-ttl`). Only allowed verdicts are kept (a denial may come from a registry that
//! failed for a moment), never one that depended on the resource (a policy-level policy that
//! includes the resource's spec or metadata), and a new version of the policies starts afresh.
//! The number of entries is capped; the oldest go first.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cosign_cluster_policy::evaluate::Judgement;

/// The most images kept.
pub const CAPACITY: usize = 100_000;

type Key = (u64, String);

#[derive(Debug)]
pub struct VerdictCache {
    ttl: Duration,
    capacity: usize,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    entries: HashMap<Key, (Instant, Arc<Judgement>)>,
    /// Keys in the order they were put in (a key put in again appears twice; the stale one is
    /// skipped when it comes up).
    order: VecDeque<(Instant, Key)>,
}

impl VerdictCache {
    /// A cache keeping verdicts for `ttl` (none kept when zero).
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            ttl,
            capacity,
            state: Mutex::new(State::default()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The verdict on `image` under the policies of `generation`, if it is fresh.
    pub fn get(&self, generation: u64, image: &str) -> Option<Arc<Judgement>> {
        if self.ttl.is_zero() {
            return None;
        }
        let state = self.state();
        let (at, judgement) = state.entries.get(&(generation, image.to_owned()))?;
        (at.elapsed() < self.ttl).then(|| judgement.clone())
    }

    /// Keeps `judgement` on `image` if it allowed the image.
    pub fn put(&self, generation: u64, image: &str, judgement: &Judgement) {
        if self.ttl.is_zero() || !judgement.allowed() {
            return;
        }
        let now = Instant::now();
        let key = (generation, image.to_owned());
        let mut state = self.state();
        // Expired entries, and (past the capacity) the oldest, make room.
        while let Some((at, oldest)) = state.order.front().cloned() {
            let expired = at.elapsed() >= self.ttl;
            if !expired && state.entries.len() < self.capacity {
                break;
            }
            state.order.pop_front();
            if state
                .entries
                .get(&oldest)
                .is_some_and(|(put, _)| *put == at)
            {
                state.entries.remove(&oldest);
            }
        }
        state.order.push_back((now, key.clone()));
        state
            .entries
            .insert(key, (now, Arc::new(judgement.clone())));
    }

    /// Forgets every verdict (the policies changed).
    pub fn clear(&self) {
        let mut state = self.state();
        state.entries.clear();
        state.order.clear();
    }

    pub fn len(&self) -> usize {
        self.state().entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed() -> Judgement {
        Judgement::default()
    }

    fn denied() -> Judgement {
        Judgement {
            errors: vec!["no".to_owned()],
            ..Judgement::default()
        }
    }

    #[test]
    fn allowed_verdicts_are_kept_for_their_generation_until_they_expire() {
        let cache = VerdictCache::new(Duration::from_millis(200), 10);
        cache.put(1, "a@sha256:1", &allowed());
        cache.put(1, "b@sha256:2", &denied());
        assert!(cache.get(1, "a@sha256:1").is_some());
        assert!(cache.get(1, "b@sha256:2").is_none(), "a denial is not kept");
        assert!(cache.get(2, "a@sha256:1").is_none(), "other policies");
        std::thread::sleep(Duration::from_millis(250));
        assert!(cache.get(1, "a@sha256:1").is_none(), "expired");
        cache.put(1, "c@sha256:3", &allowed());
        assert_eq!(cache.len(), 1, "the expired entry made room");
        cache.clear();
        assert!(cache.get(1, "c@sha256:3").is_none());
    }

    #[test]
    fn the_oldest_go_first_past_the_capacity() {
        let cache = VerdictCache::new(Duration::from_secs(60), 3);
        for index in 0..5 {
            cache.put(1, &format!("i{index}"), &allowed());
        }
        assert_eq!(cache.len(), 3);
        assert!(cache.get(1, "i0").is_none() && cache.get(1, "i1").is_none());
        assert!(cache.get(1, "i4").is_some());
        // Put again: its newer entry stays when the older one is dropped.
        cache.put(1, "i2", &allowed());
        cache.put(1, "i5", &allowed());
        assert!(cache.get(1, "i2").is_some());
        assert_eq!(cache.len(), 3);
    }

    #[test]
    fn a_zero_ttl_keeps_nothing() {
        let cache = VerdictCache::new(Duration::ZERO, 10);
        cache.put(1, "a", &allowed());
        assert!(cache.get(1, "a").is_none());
        assert_eq!(cache.len(), 0);
    }
}
