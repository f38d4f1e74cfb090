//! The exact weighted split: smooth weighted round-robin (as nginx does it). Over any run of
//! `sum(weights)` consecutive picks among the same channels, each channel is picked exactly
//! `weight` times, and picks of one channel are spread out instead of bunched. No random draws:
//! the state is a few integers, stored so the split stays exact across restarts.

/// The split's state for one set of channels and weights.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmoothWeighted {
    /// (channel, weight, current weight), sorted by channel.
    entries: Vec<(String, u32, i64)>,
}

impl SmoothWeighted {
    /// A fresh split over `channels` (id, weight); weights must be positive.
    pub fn new(channels: &[(String, u32)]) -> SmoothWeighted {
        let mut entries: Vec<(String, u32, i64)> =
            channels.iter().map(|(c, w)| (c.clone(), *w, 0)).collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        assert!(entries.iter().all(|e| e.1 > 0), "weights are positive");
        assert!(
            entries.windows(2).all(|w| w[0].0 != w[1].0),
            "channels are distinct"
        );
        SmoothWeighted { entries }
    }

    /// The key naming this set of channels and weights, e.g. `a:100,b:50`.
    pub fn key_of(channels: &[(String, u32)]) -> String {
        let mut sorted: Vec<&(String, u32)> = channels.iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        sorted
            .iter()
            .map(|(c, w)| format!("{c}:{w}"))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Picks the next channel.
    pub fn pick(&mut self) -> &str {
        let total: i64 = self.entries.iter().map(|e| e.1 as i64).sum();
        for entry in &mut self.entries {
            entry.2 += entry.1 as i64;
        }
        // The first of the largest current weights, in channel order: deterministic.
        let mut best = 0;
        for (i, entry) in self.entries.iter().enumerate() {
            if entry.2 > self.entries[best].2 {
                best = i;
            }
        }
        self.entries[best].2 -= total;
        debug_assert_eq!(self.entries.iter().map(|e| e.2).sum::<i64>(), 0);
        &self.entries[best].0
    }

    /// The current weights as text, `a=3,b=-3` (what the store keeps).
    pub fn state(&self) -> String {
        self.entries
            .iter()
            .map(|(c, _, cw)| format!("{c}={cw}"))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Restores current weights written by `state`; `None` if they do not fit this set (the
    /// split then starts afresh).
    pub fn restore(&mut self, state: &str) -> Option<()> {
        let mut current = Vec::with_capacity(self.entries.len());
        for (part, entry) in state.split(',').zip(&self.entries) {
            let (channel, cw) = part.split_once('=')?;
            if channel != entry.0 {
                return None;
            }
            current.push(cw.parse::<i64>().ok()?);
        }
        let total: i64 = self.entries.iter().map(|e| e.1 as i64).sum();
        let fits = current.len() == self.entries.len()
            && current.iter().sum::<i64>() == 0
            && current.iter().all(|cw| cw.abs() <= total);
        if !fits {
            return None;
        }
        for (entry, cw) in self.entries.iter_mut().zip(current) {
            entry.2 = cw;
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn set(weights: &[(&str, u32)]) -> Vec<(String, u32)> {
        weights.iter().map(|(c, w)| (c.to_string(), *w)).collect()
    }

    fn counts(split: &mut SmoothWeighted, n: usize) -> HashMap<String, u32> {
        let mut counts = HashMap::new();
        for _ in 0..n {
            *counts.entry(split.pick().to_owned()).or_insert(0) += 1;
        }
        counts
    }

    #[test]
    fn any_window_of_one_period_is_exact() {
        for weights in [
            vec![("a", 100), ("b", 100), ("c", 50)],
            vec![("a", 1), ("b", 2), ("c", 3), ("d", 7)],
            vec![("x", 5)],
            vec![("a", 997), ("b", 3)],
        ] {
            let channels = set(&weights);
            let total: u32 = weights.iter().map(|w| w.1).sum();
            let mut split = SmoothWeighted::new(&channels);
            let picks: Vec<String> = (0..total * 4).map(|_| split.pick().to_owned()).collect();
            for start in 0..(total * 3) as usize {
                let window = &picks[start..start + total as usize];
                for (c, w) in &weights {
                    let n = window.iter().filter(|p| p == c).count() as u32;
                    assert_eq!(n, *w, "{weights:?} window at {start}");
                }
            }
        }
    }

    #[test]
    fn the_state_survives_a_restart() {
        let channels = set(&[("a", 100), ("b", 100), ("c", 50)]);
        let mut split = SmoothWeighted::new(&channels);
        let first = counts(&mut split, 137);
        let mut restarted = SmoothWeighted::new(&channels);
        restarted.restore(&split.state()).unwrap();
        let second = counts(&mut restarted, 250 - 137);
        for c in ["a", "b", "c"] {
            let total = first.get(c).unwrap_or(&0) + second.get(c).unwrap_or(&0);
            assert_eq!(total, if c == "c" { 50 } else { 100 });
        }
        assert_eq!(SmoothWeighted::key_of(&channels), "a:100,b:100,c:50");
        assert!(restarted.clone().restore("a=1,b=0,c=0").is_none());
        assert!(restarted.clone().restore("a=0,x=0,c=0").is_none());
        assert!(restarted.restore("garbage").is_none());
    }
}
