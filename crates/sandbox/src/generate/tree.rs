//! The reporting tree, decided before any member is built.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::names::DEPARTMENTS;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Employee,
    Contractor,
    International,
    Eor,
}

/// One position in the reporting tree, decided before any member is built.
pub(super) struct Node {
    pub(super) manager: Option<u32>,
    pub(super) dept: u16,
    pub(super) level: u8,
    pub(super) reports: u32,
}

/// Builds the reporting tree: the CEO (node 0) leads one head per department, and
/// every manager below gets 3–12 reports, breadth first, until the headcount is used.
pub(super) fn build_tree(rng: &mut ChaCha8Rng, n: usize) -> Vec<Node> {
    let mut nodes = Vec::with_capacity(n);
    if n == 0 {
        return nodes;
    }
    nodes.push(Node {
        manager: None,
        dept: 0,
        level: 0,
        reports: 0,
    });
    let depts: Vec<usize> = (1..DEPARTMENTS.len()).collect();
    let heads = depts.len().min(n - 1);
    // Share the rest among the departments that got a head, by weight (largest remainder).
    let rest = n - 1 - heads;
    let total_w: u32 = depts[..heads].iter().map(|&d| DEPARTMENTS[d].weight).sum();
    let mut counts: Vec<usize> = depts[..heads]
        .iter()
        .map(|&d| rest * DEPARTMENTS[d].weight as usize / total_w.max(1) as usize)
        .collect();
    let mut assigned: usize = counts.iter().sum();
    let mut k = 0;
    while assigned < rest {
        counts[k % heads.max(1)] += 1;
        assigned += 1;
        k += 1;
    }
    let mut head_nodes = Vec::with_capacity(heads);
    for &d in &depts[..heads] {
        head_nodes.push(nodes.len() as u32);
        nodes.push(Node {
            manager: Some(0),
            dept: d as u16,
            level: 1,
            reports: 0,
        });
    }
    nodes[0].reports = heads as u32;
    for (h, &head) in head_nodes.iter().enumerate() {
        let mut remaining = counts[h];
        let mut queue = std::collections::VecDeque::from([head]);
        while remaining > 0 {
            let Some(mgr) = queue.pop_front() else { break };
            let take = if remaining <= 12 {
                remaining
            } else {
                let r = rng.random_range(3..=12);
                if remaining - r < 3 { remaining - 3 } else { r }
            };
            let (dept, level) = (nodes[mgr as usize].dept, nodes[mgr as usize].level + 1);
            for _ in 0..take {
                queue.push_back(nodes.len() as u32);
                nodes.push(Node {
                    manager: Some(mgr),
                    dept,
                    level,
                    reports: 0,
                });
            }
            nodes[mgr as usize].reports = take as u32;
            remaining -= take;
        }
    }
    nodes
}
