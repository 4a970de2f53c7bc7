//! The deterministic company: the same `(seed, members, today, company_name)` always
//! gives the same company, byte for byte (ChaCha8, whose stream is stable across
//! `rand` versions, unlike `StdRng`).

use std::collections::HashMap;

use jiff::Timestamp;
use jiff::civil::Date;
use rand::seq::index::sample;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::arena::Str;
use crate::model::{
    Address, Company, CompanyProfile, CustomFieldDef, CustomValue, Department, Email, Employment,
    Member, Office, Period, Phone, WireAddress, WirePhone,
};
use crate::names::{
    COMPANY_NAMES, CULTURES, City, Country, Culture, DEPARTMENTS, INTERNATIONAL, LANGUAGES,
    NICKNAMES, OFFICES, PERSONAL_DOMAINS, TSHIRT_SIZES, US, US_AREA_CODES, US_OFFICE_WEIGHTS,
    fold_ascii,
};

const ID_ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// `prefix` followed by 16 random base-32 characters (80 bits).
pub(crate) fn random_id(rng: &mut ChaCha8Rng, prefix: &str) -> String {
    let mut s = String::with_capacity(prefix.len() + 16);
    s.push_str(prefix);
    push_random_id(rng, &mut s);
    s
}

fn push_random_id(rng: &mut ChaCha8Rng, out: &mut String) {
    push_id_bits(rng.random::<u128>(), out);
}

fn push_id_bits(mut bits: u128, out: &mut String) {
    for _ in 0..16 {
        out.push(char::from(ID_ALPHABET[(bits & 31) as usize]));
        bits >>= 5;
    }
}

/// Days since 1970-01-01 (proleptic Gregorian).
pub(crate) fn days(d: Date) -> i32 {
    let m = i32::from(d.month());
    let y = i32::from(d.year()) - i32::from(m <= 2);
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i32::from(d.day()) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date `z` days after 1970-01-01.
pub(crate) fn date(z: i32) -> Date {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i32::from(m <= 2);
    let y = i16::try_from(y.clamp(-9999, 9999)).unwrap_or(1970);
    Date::new(y, m as i8, d as i8).unwrap_or(Date::MIN)
}

/// The instant `secs` seconds into day `day` (UTC).
fn at(day: i32, secs: i64) -> Timestamp {
    Timestamp::from_second(i64::from(day) * 86_400 + secs).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn pick<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

fn pick_weighted<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T], weight: impl Fn(&T) -> u32) -> &'a T {
    let total: u32 = items.iter().map(&weight).sum();
    let mut r = rng.random_range(0..total.max(1));
    for item in items {
        let w = weight(item);
        if r < w {
            return item;
        }
        r -= w;
    }
    &items[items.len() - 1]
}

/// `min(count, round(n * fraction))`, at least one when `n` is big enough to want one.
fn quota(n: usize, fraction: f64, candidates: usize) -> usize {
    let want = ((n as f64) * fraction).round() as usize;
    let want = if n >= 20 { want.max(1) } else { want };
    want.min(candidates)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Employee,
    Contractor,
    International,
    Eor,
}

/// One position in the reporting tree, decided before any member is built.
struct Node {
    manager: Option<u32>,
    dept: u16,
    level: u8,
    reports: u32,
}

/// Builds the reporting tree: the CEO (node 0) leads one head per department, and
/// every manager below gets 3–12 reports, breadth first, until the headcount is used.
fn build_tree(rng: &mut ChaCha8Rng, n: usize) -> Vec<Node> {
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

/// Writes `pattern` with `#` → digit and `@` → letter (or area code for phones).
fn expand(rng: &mut ChaCha8Rng, pattern: &str, out: &mut String) {
    const LETTERS: &[u8] = b"ABDEFGHJLNPRSTUWXYZ";
    for ch in pattern.chars() {
        match ch {
            '#' => out.push(char::from(b'0' + rng.random_range(0..10u8))),
            '@' => out.push(char::from(*pick(rng, LETTERS))),
            c => out.push(c),
        }
    }
}

fn phone(rng: &mut ChaCha8Rng, country: &Country, out: &mut String) {
    if country.code == "US" {
        let area = *pick(rng, US_AREA_CODES);
        out.push_str("+1");
        out.push_str(area);
        expand(rng, "55501##", out);
    } else {
        expand(rng, country.phone, out);
    }
}

fn company_profile(
    rng: &mut ChaCha8Rng,
    name: &str,
    founded: i32,
    migrated: i32,
    today: i32,
) -> CompanyProfile {
    let legal_suffix = *pick(rng, &["Inc.", "LLC", "Corp."]);
    let id = random_id(rng, "cmp_");
    let offices = OFFICES
        .iter()
        .map(|(id, name, line1, city, state, postal, country)| Office {
            id: (*id).to_owned(),
            name: (*name).to_owned(),
            address: Some(WireAddress {
                kind: None,
                line1: Some((*line1).to_owned()),
                line2: None,
                city: Some((*city).to_owned()),
                state: (!state.is_empty()).then(|| (*state).to_owned()),
                postal_code: Some((*postal).to_owned()),
                country: Some((*country).to_owned()),
            }),
        })
        .collect::<Vec<_>>();
    let mut hq = offices[0].address.clone().unwrap_or_default();
    hq.kind = Some("headquarters".to_owned());
    let mut country_data = serde_json::Map::new();
    country_data.insert(
        "US".to_owned(),
        serde_json::json!({ "legal_structure": "c_corporation", "state_of_incorporation": "DE",
                            "founded_on": date(founded).to_string() }),
    );
    CompanyProfile {
        id,
        display_name: Some(name.to_owned()),
        legal_name: Some(format!("{name} {legal_suffix}")),
        addresses: vec![hq],
        departments: DEPARTMENTS
            .iter()
            .map(|d| Department {
                id: d.id.to_owned(),
                name: d.name.to_owned(),
            })
            .collect(),
        offices,
        phones: vec![WirePhone {
            number: "+12125550100".to_owned(),
            kind: Some("main".to_owned()),
        }],
        country_data,
        created_at: at(migrated, 9 * 3600),
        updated_at: at((today - 30).max(migrated), 12 * 3600),
    }
}

pub(crate) fn custom_field_defs() -> Vec<CustomFieldDef> {
    let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
    vec![
        CustomFieldDef {
            id: "cf_tshirt_size".into(),
            label: "T-shirt size".into(),
            kind: "select".into(),
            options: s(TSHIRT_SIZES),
            cardinality: "single".into(),
            category: Some("Personal".into()),
        },
        CustomFieldDef {
            id: "cf_pronouns".into(),
            label: "Pronouns".into(),
            kind: "text".into(),
            options: vec![],
            cardinality: "single".into(),
            category: Some("Personal".into()),
        },
        CustomFieldDef {
            id: "cf_languages".into(),
            label: "Languages".into(),
            kind: "select".into(),
            options: s(LANGUAGES),
            cardinality: "multiple".into(),
            category: Some("Personal".into()),
        },
        CustomFieldDef {
            id: "cf_last_review".into(),
            label: "Last review".into(),
            kind: "date".into(),
            options: vec![],
            cardinality: "single".into(),
            category: Some("Performance".into()),
        },
        CustomFieldDef {
            id: "cf_desk_number".into(),
            label: "Desk number".into(),
            kind: "number".into(),
            options: vec![],
            cardinality: "single".into(),
            category: Some("Workplace".into()),
        },
    ]
}

/// Interned copies of the static strings the generator uses over and over.
struct Interned {
    given_male: Vec<Vec<Str>>,
    given_female: Vec<Vec<Str>>,
    family: Vec<Vec<Str>>,
    kinds: [Str; 4],
    location: [Str; 3],
    sex: [Str; 3],
    email_kind: [Str; 2],
    phone_kind: [Str; 2],
    home: Str,
    employment: [Str; 4],
    countries: HashMap<&'static str, Str>,
    states: HashMap<&'static str, Str>,
    cities: HashMap<&'static str, Str>,
    titles: HashMap<&'static str, Str>,
    nick: HashMap<&'static str, Str>,
    options: HashMap<&'static str, Str>,
    pronouns: [Str; 5],
}

impl Interned {
    fn new(c: &mut Company) -> Self {
        let t = &mut c.text;
        let mut map = |items: &mut dyn Iterator<Item = &'static str>| {
            let mut m = HashMap::new();
            for s in items {
                m.entry(s).or_insert_with(|| t.push(s));
            }
            m
        };
        let countries =
            map(&mut std::iter::once(US.code).chain(INTERNATIONAL.iter().map(|c| c.code)));
        let all_cities = || {
            std::iter::once(&US)
                .chain(INTERNATIONAL)
                .flat_map(|c| c.cities.iter())
        };
        let states = map(&mut all_cities().map(|c| c.state).filter(|s| !s.is_empty()));
        let cities = map(&mut all_cities().map(|c| c.name));
        let titles = map(&mut DEPARTMENTS.iter().flat_map(|d| {
            [d.head, d.director, d.manager, d.intern]
                .into_iter()
                .chain(d.ics.iter().copied())
        }));
        let nick = map(&mut NICKNAMES.iter().map(|(_, n)| *n));
        let options = map(&mut TSHIRT_SIZES.iter().chain(LANGUAGES).copied());
        let mut list = |v: &[&str]| v.iter().map(|s| t.push(s)).collect::<Vec<_>>();
        let given_male = CULTURES.iter().map(|c| list(c.male)).collect();
        let given_female = CULTURES.iter().map(|c| list(c.female)).collect();
        let family = CULTURES.iter().map(|c| list(c.family)).collect();
        let mut arr = |v: &[&str]| v.iter().map(|s| t.push(s)).collect::<Vec<_>>();
        let k = arr(&[
            "employee",
            "contractor",
            "international_employee",
            "employee_eor",
        ]);
        let l = arr(&["domestic", "international", "remote"]);
        let s = arr(&["female", "male", "unknown"]);
        let e = arr(&["work", "personal"]);
        let p = arr(&["mobile", "home"]);
        let h = arr(&["home"]);
        let em = arr(&["full_time", "part_time", "intern", "temporary"]);
        let pr = arr(&["she/her", "he/him", "they/them", "she/they", "he/they"]);
        Interned {
            given_male,
            given_female,
            family,
            kinds: [k[0], k[1], k[2], k[3]],
            location: [l[0], l[1], l[2]],
            sex: [s[0], s[1], s[2]],
            email_kind: [e[0], e[1]],
            phone_kind: [p[0], p[1]],
            home: h[0],
            employment: [em[0], em[1], em[2], em[3]],
            countries,
            states,
            cities,
            titles,
            nick,
            options,
            pronouns: [pr[0], pr[1], pr[2], pr[3], pr[4]],
        }
    }
}

/// Generates the company. `members` may be 0.
pub(crate) fn generate(seed: u64, n: usize, today: Date, company_name: Option<&str>) -> Company {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let today_d = days(today);
    let founded = today_d - 365 * 12 + rng.random_range(0..200);
    let migrated = founded + 365 * 3 + rng.random_range(0..200);
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

    // Ids first, so managers can be referred to before they are built.
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
    drop(seen);

    // Kinds: the CEO, heads and managers are employees (or international employees).
    let kinds: Vec<Kind> = nodes
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
        .collect();

    // Original hire dates: leaders early, everyone else skewed towards recent years.
    let span = (today_d - 1 - (founded + 30)).max(1) as f64;
    let starts: Vec<i32> = nodes
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
        .collect();

    // Who gets the edge cases.
    let leaves: Vec<usize> = (1..n).filter(|&i| nodes[i].reports == 0).collect();
    let mut terminated = vec![false; n];
    let mut future_end = vec![false; n];
    let mut rehired = vec![false; n];
    let mut no_work_email = vec![false; n];
    let cands: Vec<usize> = leaves
        .iter()
        .copied()
        .filter(|&i| starts[i] <= today_d - 90)
        .collect();
    for k in sample(&mut rng, cands.len(), quota(n, 0.05, cands.len())) {
        terminated[cands[k]] = true;
    }
    let cands: Vec<usize> = leaves.iter().copied().filter(|&i| !terminated[i]).collect();
    for k in sample(&mut rng, cands.len(), quota(n, 0.01, cands.len())) {
        future_end[cands[k]] = true;
    }
    let cands: Vec<usize> = (1..n)
        .filter(|&i| !terminated[i] && !future_end[i] && starts[i] <= today_d - 600)
        .collect();
    for k in sample(&mut rng, cands.len(), quota(n, 0.02, cands.len())) {
        rehired[cands[k]] = true;
    }
    let cands: Vec<usize> = leaves
        .iter()
        .copied()
        .filter(|&i| kinds[i] != Kind::Eor)
        .collect();
    for k in sample(&mut rng, cands.len(), quota(n, 0.03, cands.len())) {
        no_work_email[cands[k]] = true;
    }
    // One manager (below the department heads when possible) has no work email, so the
    // reporting line to them cannot be linked by email.
    let managers: Vec<usize> = (1..n).filter(|&i| nodes[i].reports > 0).collect();
    if let Some(&m) = managers
        .iter()
        .find(|&&i| nodes[i].level >= 2)
        .or(managers.first())
    {
        no_work_email[m] = true;
    }

    let mut email_counts: HashMap<String, u32> = HashMap::new();
    let mut local = String::with_capacity(32);
    let us_offices: Vec<usize> = (0..4).collect();
    for (i, node) in nodes.iter().enumerate() {
        let kind = kinds[i];
        let dept = &DEPARTMENTS[usize::from(node.dept)];

        // Where they live and work.
        let country: &Country = match kind {
            Kind::Employee => &US,
            Kind::Contractor if rng.random_bool(0.7) => &US,
            _ => pick_weighted(&mut rng, INTERNATIONAL, |c| c.weight),
        };
        let (location, office): (Str, Option<u16>) = match kind {
            Kind::Employee if i == 0 || rng.random_bool(0.75) => {
                let o = *pick_weighted(&mut rng, &us_offices, |&o| US_OFFICE_WEIGHTS[o]);
                (strs.location[0], Some(o as u16))
            }
            Kind::Employee => (strs.location[2], None),
            Kind::Contractor if country.code == "US" => (strs.location[2], None),
            Kind::International if country.code == "GB" && rng.random_bool(0.6) => {
                (strs.location[1], Some(4))
            }
            Kind::International if country.code == "CA" && rng.random_bool(0.6) => {
                (strs.location[1], Some(5))
            }
            _ => (strs.location[1], None),
        };
        let office_id = office.map(|o| OFFICES[usize::from(o)].0);
        let home_city: &City = match office_id {
            Some(oid) => {
                let near = country.cities.iter().filter(|c| c.office == Some(oid));
                match near.clone().count() {
                    0 => pick(&mut rng, country.cities),
                    k => near
                        .clone()
                        .nth(rng.random_range(0..k))
                        .unwrap_or(&country.cities[0]),
                }
            }
            None => pick(&mut rng, country.cities),
        };

        // Name and sex.
        let culture_ix = if country.code != "US" && rng.random_bool(0.75) {
            let local_cultures: Vec<usize> = (0..CULTURES.len())
                .filter(|&k| CULTURES[k].home.contains(&country.code))
                .collect();
            if local_cultures.is_empty() {
                weighted_culture(&mut rng)
            } else {
                *pick(&mut rng, &local_cultures)
            }
        } else {
            weighted_culture(&mut rng)
        };
        let culture: &Culture = &CULTURES[culture_ix];
        let female = rng.random_bool(0.5);
        let (given_list, given_strs) = if female {
            (culture.female, &strs.given_female[culture_ix])
        } else {
            (culture.male, &strs.given_male[culture_ix])
        };
        let gi = rng.random_range(0..given_list.len());
        let fi = rng.random_range(0..culture.family.len());
        let given = given_list[gi];
        let family = culture.family[fi];
        let sex = if rng.random_bool(0.03) {
            strs.sex[2]
        } else if female {
            strs.sex[0]
        } else {
            strs.sex[1]
        };
        let nickname = NICKNAMES.iter().find(|(g, _)| *g == given).map(|(_, n)| *n);
        let preferred: Option<(&str, Str)> = match nickname {
            Some(nick) if rng.random_bool(0.4) => Some((nick, strs.nick[nick])),
            _ if rng.random_bool(0.03) => {
                let k = rng.random_range(0..CULTURES[0].male.len());
                if female {
                    Some((CULTURES[0].female[k], strs.given_female[0][k]))
                } else {
                    Some((CULTURES[0].male[k], strs.given_male[0][k]))
                }
            }
            _ => None,
        };
        let first = preferred.map_or(given, |p| p.0);
        let full = c.text.push_fmt(format_args!("{first} {family}"));
        let additional = if rng.random_bool(0.06) {
            let k = rng.random_range(0..given_list.len());
            if k != gi {
                c.names.push_one(given_strs[k])
            } else {
                Default::default()
            }
        } else {
            Default::default()
        };

        // Dates.
        let orig_start = starts[i];
        let added = if orig_start < migrated {
            migrated
        } else {
            (orig_start - rng.random_range(0..=14)).max(migrated)
        };
        let created_at = if i == 0 {
            at(added, 9 * 3600)
        } else if added == migrated {
            // Everyone on the company's first Justworks day comes after the CEO.
            at(added, 9 * 3600 + rng.random_range(1..36_000))
        } else {
            at(added, rng.random_range(8 * 3600..20 * 3600))
        };
        let mut periods: Vec<Period> = Vec::with_capacity(2);
        let mut start = orig_start;
        let mut end: Option<i32> = None;
        let mut updated_floor = created_at;
        if terminated[i] {
            let lo = orig_start + 60;
            let hi = (today_d - 1).max(lo);
            let e = rng.random_range(lo..=hi);
            end = Some(e);
            updated_floor = updated_floor.max(at(e, 18 * 3600));
        } else if rehired[i] {
            let avail = today_d - 30 - orig_start;
            let e1 = orig_start + 120 + rng.random_range(0..=((avail - 180) / 2).max(0));
            let gap_max = (today_d - 30 - e1 - 1).clamp(30, 365);
            let s2 = (e1 + rng.random_range(30..=gap_max)).min(today_d - 30);
            periods.push(Period {
                start: Some(date(orig_start)),
                end: Some(date(e1)),
            });
            start = s2;
            updated_floor = updated_floor.max(at(s2 - 7, 12 * 3600));
        } else if future_end[i] {
            end = Some(today_d + rng.random_range(1..=60));
            updated_floor = updated_floor.max(at(today_d - 20, 12 * 3600));
        }
        periods.push(Period {
            start: Some(date(start)),
            end: end.map(date),
        });
        let today_start = at(today_d, 0).as_second() - 1;
        let floor = updated_floor.as_second();
        let updated_at = if floor >= today_start {
            updated_floor
        } else {
            Timestamp::from_second(rng.random_range(floor..=today_start)).unwrap_or(updated_floor)
        };
        let active = end.is_none_or(|e| e >= today_d);
        let intern = kind != Kind::Contractor && node.reports == 0 && rng.random_bool(0.03);
        let age = if intern {
            rng.random_range(19..=23)
        } else {
            rng.random_range(22..=52)
        };
        let dob = date(orig_start - age * 365 - age / 4 - rng.random_range(0..365));

        // Title.
        let title = match (i, node.level, node.reports > 0) {
            (0, _, _) => DEPARTMENTS[0].head,
            (_, 1, _) => dept.head,
            (_, 2, true) => dept.director,
            (_, _, true) => dept.manager,
            _ if intern => dept.intern,
            _ => *pick(&mut rng, dept.ics),
        };

        // Emails.
        let mut emails: [Email; 2] = [Email {
            address: Str::EMPTY,
            kind: Str::EMPTY,
        }; 2];
        let mut n_emails = 0;
        if !no_work_email[i] {
            local.clear();
            fold_ascii(first, &mut local);
            local.push('.');
            fold_ascii(family, &mut local);
            let count = email_counts.entry(local.clone()).or_insert(0);
            *count += 1;
            let address = if *count == 1 {
                c.text.push_fmt(format_args!("{local}@{}", c.domain))
            } else {
                c.text.push_fmt(format_args!("{local}{count}@{}", c.domain))
            };
            emails[n_emails] = Email {
                address,
                kind: strs.email_kind[0],
            };
            n_emails += 1;
        }
        if no_work_email[i] || rng.random_bool(0.9) {
            let start_ix = c.text.start();
            let pattern = rng.random_range(0..3);
            let mut g = String::new();
            fold_ascii(given, &mut g);
            let mut f = String::new();
            fold_ascii(family, &mut f);
            let digits = rng.random_range(10..100);
            let domain = *pick(&mut rng, PERSONAL_DOMAINS);
            match pattern {
                0 => c.text.append(&format!("{g}.{f}{digits}@{domain}")),
                1 => c
                    .text
                    .append(&format!("{g}{}{digits}@{domain}", &f[..1.min(f.len())])),
                _ => c.text.append(&format!("{f}.{g}{digits}@{domain}")),
            }
            let address = c.text.finish(start_ix);
            emails[n_emails] = Email {
                address,
                kind: strs.email_kind[1],
            };
            n_emails += 1;
        }
        let emails = c.emails.push_all(emails[..n_emails].iter().copied());

        // Phones.
        let phones = if rng.random_bool(0.95) {
            scratch.clear();
            phone(&mut rng, country, &mut scratch);
            let mobile = Phone {
                number: c.text.push(&scratch),
                kind: strs.phone_kind[0],
            };
            if rng.random_bool(0.15) {
                scratch.clear();
                phone(&mut rng, country, &mut scratch);
                let home = Phone {
                    number: c.text.push(&scratch),
                    kind: strs.phone_kind[1],
                };
                c.phones.push_all([mobile, home])
            } else {
                c.phones.push_one(mobile)
            }
        } else {
            Default::default()
        };

        // Home address.
        let addresses = if rng.random_bool(0.98) {
            let street = *pick(&mut rng, country.streets);
            let number = rng.random_range(1..=2400);
            let line1 = if country.number_after_street {
                c.text.push_fmt(format_args!("{street} {number}"))
            } else {
                c.text.push_fmt(format_args!("{number} {street}"))
            };
            let line2 = if rng.random_bool(0.2) {
                let unit = rng.random_range(1..=40);
                c.text
                    .push_fmt(format_args!("{}{unit}", country.unit_prefix))
            } else {
                Str::EMPTY
            };
            scratch.clear();
            expand(&mut rng, home_city.postal, &mut scratch);
            let postal_code = c.text.push(&scratch);
            let state = if home_city.state.is_empty() {
                Str::EMPTY
            } else {
                strs.states[home_city.state]
            };
            c.addresses.push_one(Address {
                kind: strs.home,
                line1,
                line2,
                city: strs.cities[home_city.name],
                state,
                postal_code,
                country: strs.countries[country.code],
            })
        } else {
            Default::default()
        };

        // Employment type, keyed by the country of employment.
        let employment = if kind == Kind::Contractor {
            Default::default()
        } else {
            let et = if intern {
                strs.employment[2]
            } else if node.reports > 0 {
                strs.employment[0]
            } else {
                let r: f64 = rng.random();
                if r < 0.90 {
                    strs.employment[0]
                } else if r < 0.96 {
                    strs.employment[1]
                } else {
                    strs.employment[3]
                }
            };
            c.employment.push_one(Employment {
                country: strs.countries[country.code],
                employment_type: et,
            })
        };

        // Custom field values.
        let mut custom: Vec<CustomValue> = Vec::with_capacity(5);
        if rng.random_bool(0.75) {
            let size = *pick(&mut rng, TSHIRT_SIZES);
            custom.push(CustomValue {
                field: 0,
                value: strs.options[size],
            });
        }
        if rng.random_bool(0.35) {
            let p = if sex == strs.sex[2] || rng.random_bool(0.1) {
                *pick(&mut rng, &strs.pronouns[2..])
            } else if female {
                strs.pronouns[0]
            } else {
                strs.pronouns[1]
            };
            custom.push(CustomValue { field: 1, value: p });
        }
        if rng.random_bool(0.55) {
            let native = culture.language;
            custom.push(CustomValue {
                field: 2,
                value: strs.options[native],
            });
            if native != "English" {
                custom.push(CustomValue {
                    field: 2,
                    value: strs.options["English"],
                });
            }
            if rng.random_bool(0.25) {
                let extra = *pick(&mut rng, LANGUAGES);
                if extra != native && extra != "English" {
                    custom.push(CustomValue {
                        field: 2,
                        value: strs.options[extra],
                    });
                }
            }
        }
        if active && start <= today_d - 180 && rng.random_bool(0.65) {
            let lo = (today_d - 365).max(start + 90);
            let review = date(rng.random_range(lo..today_d));
            let value = c.text.push_fmt(format_args!("{review}"));
            custom.push(CustomValue { field: 3, value });
        }
        if office.is_some() && rng.random_bool(0.2) {
            let desk = rng.random_range(100..900);
            let value = c.text.push_fmt(format_args!("{desk}"));
            custom.push(CustomValue { field: 4, value });
        }
        let custom = c.custom.push_all(custom);

        let member = Member {
            id: ids[i],
            work_id: Str::EMPTY,
            given_name: given_strs[gi],
            family_name: strs.family[culture_ix][fi],
            preferred_name: preferred.map_or(Str::EMPTY, |p| p.1),
            full_preferred_name: full,
            additional_names: additional,
            kind: strs.kinds[kind as usize],
            location_type: location,
            sex,
            emails,
            phones,
            addresses,
            employment,
            history: c.periods.push_all(periods),
            custom,
            date_added: Some(date(added)),
            dob: Some(dob),
            start_date: Some(date(start)),
            termination_date: end.map(date),
            department: Some(node.dept),
            office,
            job_title: strs.titles[title],
            manager: node.manager.map_or(Str::EMPTY, |m| ids[m as usize]),
            created_at,
            updated_at,
            active,
            hidden: false,
        };
        c.members.push(member);
    }
    drop(email_counts);
    c.finish_loading().expect("generated ids are unique");
    // Work ids in order of joining Justworks, like Justworks' auto-assigned ones.
    for k in 0..c.members.len() {
        c.members[k].work_id = c.text.push_fmt(format_args!("E{:05}", k + 1));
    }
    c.next_work_id = c.members.len() as u64 + 1;
    c
}

fn weighted_culture(rng: &mut ChaCha8Rng) -> usize {
    let total: u32 = CULTURES.iter().map(|c| c.weight).sum();
    let mut r = rng.random_range(0..total);
    for (k, c) in CULTURES.iter().enumerate() {
        if r < c.weight {
            return k;
        }
        r -= c.weight;
    }
    0
}

#[cfg(test)]
mod tests {
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
