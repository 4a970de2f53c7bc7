//! Decisions about the whole population, taken before any member is built and in a
//! fixed order of random draws: ids, kinds, original hire dates, and who gets the edge
//! cases (terminated, leaving soon, rehired, no work email).

use rand::Rng;
use rand::seq::index::sample;
use rand_chacha::ChaCha8Rng;

use super::tree::{Kind, Node};
use super::util::{push_id_bits, quota};
use crate::arena::Str;
use crate::model::Company;

pub(super) struct Population {
    pub(super) ids: Vec<Str>,
    pub(super) kinds: Vec<Kind>,
    /// Original hire dates, as day numbers.
    pub(super) starts: Vec<i32>,
    pub(super) terminated: Vec<bool>,
    pub(super) future_end: Vec<bool>,
    pub(super) rehired: Vec<bool>,
    pub(super) no_work_email: Vec<bool>,
}

impl Population {
    pub(super) fn draw(
        rng: &mut ChaCha8Rng,
        c: &mut Company,
        nodes: &[Node],
        founded: i32,
        today_d: i32,
    ) -> Self {
        let ids = ids(rng, c, nodes.len());
        let kinds = kinds(rng, nodes);
        let starts = starts(rng, nodes, founded, today_d);
        let mut p = Population {
            ids,
            kinds,
            starts,
            terminated: vec![false; nodes.len()],
            future_end: vec![false; nodes.len()],
            rehired: vec![false; nodes.len()],
            no_work_email: vec![false; nodes.len()],
        };
        p.edge_cases(rng, nodes, today_d);
        p
    }

    /// Who gets the edge cases.
    fn edge_cases(&mut self, rng: &mut ChaCha8Rng, nodes: &[Node], today_d: i32) {
        let n = nodes.len();
        let leaves: Vec<usize> = (1..n).filter(|&i| nodes[i].reports == 0).collect();
        let cands: Vec<usize> = leaves
            .iter()
            .copied()
            .filter(|&i| self.starts[i] <= today_d - 90)
            .collect();
        for k in sample(rng, cands.len(), quota(n, 0.05, cands.len())) {
            self.terminated[cands[k]] = true;
        }
        let cands: Vec<usize> = leaves
            .iter()
            .copied()
            .filter(|&i| !self.terminated[i])
            .collect();
        for k in sample(rng, cands.len(), quota(n, 0.01, cands.len())) {
            self.future_end[cands[k]] = true;
        }
        let cands: Vec<usize> = (1..n)
            .filter(|&i| {
                !self.terminated[i] && !self.future_end[i] && self.starts[i] <= today_d - 600
            })
            .collect();
        for k in sample(rng, cands.len(), quota(n, 0.02, cands.len())) {
            self.rehired[cands[k]] = true;
        }
        let cands: Vec<usize> = leaves
            .iter()
            .copied()
            .filter(|&i| self.kinds[i] != Kind::Eor)
            .collect();
        for k in sample(rng, cands.len(), quota(n, 0.03, cands.len())) {
            self.no_work_email[cands[k]] = true;
        }
        // One manager (below the department heads when possible) has no work email, so
        // the reporting line to them cannot be linked by email.
        let managers: Vec<usize> = (1..n).filter(|&i| nodes[i].reports > 0).collect();
        if let Some(&m) = managers
            .iter()
            .find(|&&i| nodes[i].level >= 2)
            .or(managers.first())
        {
            self.no_work_email[m] = true;
        }
    }
}

/// Ids first, so managers can be referred to before they are built.
fn ids(rng: &mut ChaCha8Rng, c: &mut Company, n: usize) -> Vec<Str> {
    let mut ids = Vec::with_capacity(n);
    let mut seen = hashbrown::HashSet::with_capacity(n);
    let mut scratch = String::with_capacity(24);
    for _ in 0..n {
        let bits = loop {
            let bits = rng.random::<u128>() & ((1u128 << 80) - 1);
            if seen.insert(bits) {
                break bits;
            }
        };
        scratch.clear();
        scratch.push_str("mbr_");
        push_id_bits(bits, &mut scratch);
        ids.push(c.text.push(&scratch));
    }
    ids
}

/// Kinds: the CEO, heads and managers are employees (or international employees).
fn kinds(rng: &mut ChaCha8Rng, nodes: &[Node]) -> Vec<Kind> {
    nodes
        .iter()
        .map(|node| {
            let r: f64 = rng.random();
            if node.level <= 1 {
                Kind::Employee
            } else if node.reports > 0 {
                if r < 0.94 {
                    Kind::Employee
                } else {
                    Kind::International
                }
            } else if r < 0.84 {
                Kind::Employee
            } else if r < 0.90 {
                Kind::Contractor
            } else if r < 0.95 {
                Kind::International
            } else {
                Kind::Eor
            }
        })
        .collect()
}

/// Original hire dates: leaders early, everyone else skewed towards recent years.
fn starts(rng: &mut ChaCha8Rng, nodes: &[Node], founded: i32, today_d: i32) -> Vec<i32> {
    let span = (today_d - 1 - (founded + 30)).max(1) as f64;
    nodes
        .iter()
        .enumerate()
        .map(|(i, node)| {
            if i == 0 {
                return founded;
            }
            let u: f64 = rng.random();
            let skew = match node.level {
                1 => u.powf(2.0),
                2 => u.powf(1.2),
                _ => u.powf(0.6),
            };
            founded + 30 + (skew * span) as i32
        })
        .collect()
}
