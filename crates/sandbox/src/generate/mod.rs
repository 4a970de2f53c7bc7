//! The deterministic company: the same `(seed, members, today, company_name)` always
//! gives the same company, byte for byte (ChaCha8, whose stream is stable across
//! `rand` versions, unlike `StdRng`). The steps, in the order they draw from the
//! random stream: the profile, the reporting tree (`tree`), the population's ids,
//! kinds, hire dates and edge cases (`population`), then each member (`person`).

mod person;
mod population;
mod profile;
mod tree;
mod util;

use jiff::civil::Date;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::model::Company;
use crate::names::{COMPANY_NAMES, fold_ascii};
pub(crate) use util::random_id;

use person::Builder;
use population::Population;
use profile::{Interned, company_profile, custom_field_defs};
use tree::build_tree;
use util::{days, pick};

/// Generates the company. `members` may be 0.
pub(crate) fn generate(seed: u64, n: usize, today: Date, company_name: Option<&str>) -> Company {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let today_d = days(today);
    let founded = today_d - 365 * 12 + rand::Rng::random_range(&mut rng, 0..200);
    let migrated = founded + 365 * 3 + rand::Rng::random_range(&mut rng, 0..200);
    let name = company_name
        .map(str::to_owned)
        .unwrap_or_else(|| (*pick(&mut rng, COMPANY_NAMES)).to_owned());
    let mut slug = String::new();
    fold_ascii(&name, &mut slug);
    let domain = format!("{slug}.example");
    let profile = company_profile(&mut rng, &name, founded, migrated, today_d);
    let member_rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed_0fc0_ffee);
    let mut c = Company::new(profile, custom_field_defs(), domain, today, member_rng, n);
    let strs = Interned::new(&mut c);
    let nodes = build_tree(&mut rng, n);
    let pop = Population::draw(&mut rng, &mut c, &nodes, founded, today_d);
    let mut members = Vec::with_capacity(n);
    {
        let mut builder = Builder::new(&mut rng, &mut c, &strs, &nodes, &pop, today_d, migrated);
        for i in 0..nodes.len() {
            members.push(builder.member(i));
        }
    }
    c.members.extend(members);
    c.finish_loading().expect("generated ids are unique");
    // Work ids in order of joining Justworks, like Justworks' auto-assigned ones.
    for k in 0..c.members.len() {
        c.members[k].work_id = c.text.push_fmt(format_args!("E{:05}", k + 1));
    }
    c.next_work_id = c.members.len() as u64 + 1;
    c
}

#[cfg(test)]
mod tests {
    use super::tree::build_tree;
    use super::util::date;
    use super::*;

    #[test]
    fn day_numbers_round_trip() {
        for d in [
            Date::new(1970, 1, 1).unwrap(),
            Date::new(2000, 2, 29).unwrap(),
            Date::new(1969, 12, 31).unwrap(),
            Date::new(2024, 12, 31).unwrap(),
            Date::new(1900, 3, 1).unwrap(),
        ] {
            assert_eq!(date(days(d)), d);
        }
        assert_eq!(days(Date::new(1970, 1, 2).unwrap()), 1);
        let a = Date::new(2024, 1, 1).unwrap();
        let b = Date::new(2025, 1, 1).unwrap();
        assert_eq!(days(b) - days(a), 366);
    }

    #[test]
    fn tree_has_one_root_and_bounded_fanout() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let nodes = build_tree(&mut rng, 5000);
        assert_eq!(nodes.len(), 5000);
        assert_eq!(nodes.iter().filter(|n| n.manager.is_none()).count(), 1);
        for (i, n) in nodes.iter().enumerate().skip(1) {
            assert!(n.manager.is_some_and(|m| (m as usize) < i));
            if n.reports > 0 {
                assert!((3..=12).contains(&n.reports), "node {i} has {}", n.reports);
            }
        }
        let counted: u32 = nodes.iter().map(|n| n.reports).sum();
        assert_eq!(counted as usize, nodes.len() - 1);
    }

    #[test]
    fn tiny_companies_work() {
        let today = Date::new(2025, 6, 1).unwrap();
        for n in [0, 1, 2, 5, 11, 12, 30] {
            let c = generate(3, n, today, None);
            assert_eq!(c.members.len(), n);
        }
    }
}
