//! The reporting tree of the active directory, built once per page: who reports to
//! whom, each manager's team size, and the reporting lines that are broken (a
//! manager who is not an active employee, and what the last syncs reported: a
//! manager without a work email, a manager not in the sync, a cycle or a
//! self-manager whose link was dropped). Pure; the org chart, the dashboard and a
//! user's page read it.

use std::collections::HashMap;

use roster_core::employee::Employee;

use super::words::name_of;

/// Why an employee's reporting line is broken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Broken {
    /// `manager_email` names no active employee.
    ManagerMissing(String),
    /// A sync reported the manager has no work email.
    NoWorkEmail(String),
    /// A sync reported the manager is not in the sync.
    NotInSync(String),
    /// A sync dropped this link because it closed a cycle.
    Cycle,
    /// A sync dropped this link: the employee was their own manager.
    SelfManager,
}

impl Broken {
    /// The code of the kind (CSS class, test hook).
    pub fn code(&self) -> &'static str {
        match self {
            Broken::ManagerMissing(_) => "manager-missing",
            Broken::NoWorkEmail(_) => "no-work-email",
            Broken::NotInSync(_) => "not-in-sync",
            Broken::Cycle => "cycle",
            Broken::SelfManager => "self-manager",
        }
    }

    /// What is wrong, in words.
    pub fn what(&self) -> String {
        match self {
            Broken::ManagerMissing(m) => {
                format!("Their manager ({m}) is not an active employee: the line ends here.")
            }
            Broken::NoWorkEmail(m) => {
                format!("Their manager, {m}, has no work email, so the line is not linked.")
            }
            Broken::NotInSync(m) => {
                format!("Their manager, {m}, is not in the sync, so the line is not linked.")
            }
            Broken::Cycle => {
                "Their reporting line closed a cycle, so it was dropped: they are shown at the top."
                    .into()
            }
            Broken::SelfManager => {
                "They were named as their own manager, so the line was dropped.".into()
            }
        }
    }

    /// How to fix it.
    pub fn fix(&self) -> &'static str {
        match self {
            Broken::ManagerMissing(_) | Broken::NotInSync(_) => {
                "Add the manager to the sync, or correct this employee's manager in the source."
            }
            Broken::NoWorkEmail(_) => "Give the manager a work email in the source.",
            Broken::Cycle => {
                "Correct one manager in the cycle in the source; the next sync links the rest."
            }
            Broken::SelfManager => "Correct this employee's manager in the source.",
        }
    }

    /// A broken line from a recorded issue (`code`, `message`), if it is about one.
    /// The manager is named by their source ID (the message's second word, as the
    /// planner writes it: "manager ID has no work email …") until [`Tree::build`]
    /// puts their name.
    pub fn from_issue(code: &str, message: &str) -> Option<Broken> {
        let manager = || match message.strip_prefix("manager ") {
            Some(rest) => rest.split_whitespace().next().unwrap_or("").to_string(),
            None => String::new(),
        };
        Some(match code {
            "manager_no_work_email" => Broken::NoWorkEmail(manager()),
            "manager_not_in_sync" => Broken::NotInSync(manager()),
            "manager_cycle" => Broken::Cycle,
            "self_manager" => Broken::SelfManager,
            _ => return None,
        })
    }
}

/// One active employee in the tree.
#[derive(Debug)]
pub struct Person {
    pub employee_id: String,
    pub name: String,
    /// Lower case, for search.
    pub search: String,
}

/// The reporting tree.
#[derive(Debug, Default)]
pub struct Tree {
    pub people: Vec<Person>,
    pub parent: Vec<Option<usize>>,
    /// Reports, by name.
    pub children: Vec<Vec<usize>>,
    /// The people at the top (no manager, or a broken line), by name.
    pub roots: Vec<usize>,
    /// Everyone below each person (direct and indirect reports).
    pub below: Vec<usize>,
    pub broken: Vec<Option<Broken>>,
}

impl Tree {
    /// The tree of the active, unmerged employees of `directory`, with `reported`
    /// broken lines (employee ID or source ID, broken) from the last syncs' issues.
    pub fn build(directory: &[Employee], reported: &[(String, Broken)]) -> Tree {
        let people: Vec<&Employee> = directory
            .iter()
            .filter(|e| e.active && e.merged_into.is_none())
            .collect();
        let mut by_email: HashMap<String, usize> = HashMap::with_capacity(people.len());
        let mut by_id: HashMap<&str, usize> = HashMap::with_capacity(people.len());
        let mut by_source: HashMap<&str, &Employee> = HashMap::new();
        for (i, e) in people.iter().enumerate() {
            if !e.email.is_empty() {
                by_email.insert(e.email.to_lowercase(), i);
            }
            by_id.insert(e.employee_id.as_str(), i);
        }
        for e in directory {
            if let Some(s) = e.source_id.as_deref() {
                by_source.insert(s, e);
            }
        }
        // A manager named by source ID: their name, if known.
        let manager_name = |sid: &str| match by_source.get(sid) {
            Some(m) => name_of(m),
            None if sid.is_empty() => "unknown".to_string(),
            None => format!("source member {sid}"),
        };
        let n = people.len();
        let mut t = Tree {
            people: Vec::with_capacity(n),
            parent: vec![None; n],
            children: vec![Vec::new(); n],
            roots: Vec::new(),
            below: vec![0; n],
            broken: vec![None; n],
        };
        for (i, e) in people.iter().enumerate() {
            let name = name_of(e);
            t.people.push(Person {
                employee_id: e.employee_id.clone(),
                search: format!("{} {} {}", name, e.email, e.employee_id).to_lowercase(),
                name,
            });
            if let Some(m) = e.manager_email.as_deref().filter(|m| !m.is_empty()) {
                match by_email.get(&m.to_lowercase()) {
                    Some(&p) if p != i => t.parent[i] = Some(p),
                    Some(_) => t.broken[i] = Some(Broken::SelfManager),
                    None => t.broken[i] = Some(Broken::ManagerMissing(m.to_string())),
                }
            }
        }
        for (id, b) in reported {
            let i = by_id.get(id.as_str()).copied().or_else(|| {
                by_source
                    .get(id.as_str())
                    .and_then(|e| by_id.get(e.employee_id.as_str()).copied())
            });
            if let Some(i) = i
                && t.broken[i].is_none()
                && t.parent[i].is_none()
            {
                t.broken[i] = Some(match b {
                    Broken::NoWorkEmail(m) => Broken::NoWorkEmail(manager_name(m)),
                    Broken::NotInSync(m) => Broken::NotInSync(manager_name(m)),
                    other => other.clone(),
                });
            }
        }
        t.break_cycles();
        for i in 0..n {
            match t.parent[i] {
                Some(p) => t.children[p].push(i),
                None => t.roots.push(i),
            }
        }
        let people = &t.people;
        let by_name = |a: &usize, b: &usize| {
            people[*a]
                .name
                .cmp(&people[*b].name)
                .then(people[*a].employee_id.cmp(&people[*b].employee_id))
        };
        t.roots.sort_by(by_name);
        for c in &mut t.children {
            c.sort_by(by_name);
        }
        t.count_below();
        t
    }

    /// A directory written by hand could hold a cycle the planner would have
    /// dropped: drop the closing link here too, and say so.
    fn break_cycles(&mut self) {
        let n = self.parent.len();
        // 0 = not seen, 1 = on the current path, 2 = done.
        let mut state = vec![0u8; n];
        for start in 0..n {
            let mut path = Vec::new();
            let mut cur = start;
            while state[cur] == 0 {
                state[cur] = 1;
                path.push(cur);
                match self.parent[cur] {
                    Some(p) if state[p] == 1 => {
                        self.parent[cur] = None;
                        self.broken[cur] = Some(Broken::Cycle);
                        break;
                    }
                    Some(p) => cur = p,
                    None => break,
                }
            }
            for p in path {
                state[p] = 2;
            }
        }
    }

    /// `below` for everyone: children after their parents in a breadth-first order,
    /// summed from the leaves up.
    fn count_below(&mut self) {
        let mut order = self.roots.clone();
        let mut i = 0;
        while i < order.len() {
            order.extend_from_slice(&self.children[order[i]]);
            i += 1;
        }
        for &p in order.iter().rev() {
            if let Some(m) = self.parent[p] {
                self.below[m] += self.below[p] + 1;
            }
        }
    }

    /// The person with this employee ID.
    pub fn find(&self, employee_id: &str) -> Option<usize> {
        self.people
            .iter()
            .position(|p| p.employee_id == employee_id)
    }

    /// The chain of managers above `i`, nearest first.
    pub fn chain(&self, i: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut cur = self.parent[i];
        while let Some(p) = cur {
            if out.contains(&p) {
                break;
            }
            out.push(p);
            cur = self.parent[p];
        }
        out
    }

    /// The employees with a broken line, by name.
    pub fn broken_lines(&self) -> Vec<usize> {
        let mut out: Vec<usize> = (0..self.people.len())
            .filter(|i| self.broken[*i].is_some())
            .collect();
        out.sort_by(|a, b| self.people[*a].name.cmp(&self.people[*b].name));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn emp(id: &str, email: &str, manager: Option<&str>) -> Employee {
        Employee {
            key: id[1..].parse().unwrap_or(0),
            employee_id: id.into(),
            email: email.into(),
            first_name: Some(id.into()),
            manager_email: manager.map(str::to_string),
            active: true,
            ..Employee::default()
        }
    }

    #[test]
    fn reports_hang_under_their_manager_with_team_sizes() {
        let d = vec![
            emp("E1", "ceo@x", None),
            emp("E2", "vp@x", Some("CEO@x")),
            emp("E3", "a@x", Some("vp@x")),
            emp("E4", "b@x", Some("vp@x")),
            emp("E5", "c@x", Some("gone@x")),
        ];
        let t = Tree::build(&d, &[]);
        assert_eq!(t.roots, [0, 4]);
        assert_eq!(t.children[1], [2, 3]);
        assert_eq!(t.below[0], 3);
        assert_eq!(t.below[1], 2);
        assert_eq!(t.chain(2), [1, 0]);
        assert_eq!(t.broken[4], Some(Broken::ManagerMissing("gone@x".into())));
        assert_eq!(t.broken_lines(), [4]);
    }

    #[test]
    fn a_cycle_is_broken_and_reported_lines_are_kept() {
        let d = vec![
            emp("E1", "a@x", Some("b@x")),
            emp("E2", "b@x", Some("a@x")),
            emp("E3", "c@x", None),
        ];
        let t = Tree::build(&d, &[("E3".into(), Broken::Cycle)]);
        assert_eq!(t.roots.len(), 2, "{:?}", t.roots);
        assert_eq!(
            t.broken
                .iter()
                .filter(|b| **b == Some(Broken::Cycle))
                .count(),
            2
        );
        assert_eq!(t.below.iter().sum::<usize>(), 1);
    }
}
