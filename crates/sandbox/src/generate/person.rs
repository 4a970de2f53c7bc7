//! One member, built in a fixed order of random draws: where they live and work, name
//! and sex, dates, title, emails, phones, home address, employment type, custom fields.
//! The order is the generator's contract (the golden digest in `tests/golden.rs`): a
//! step that draws must not move before or after another.

use std::collections::HashMap;

use jiff::Timestamp;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::population::Population;
use super::profile::Interned;
use super::tree::{Kind, Node};
use super::util::{at, date, expand, phone, pick, pick_weighted, weighted_culture};
use crate::arena::{Span, Str};
use crate::model::{Address, Company, CustomValue, Email, Employment, Member, Period, Phone};
use crate::names::{
    CULTURES, City, Country, Culture, DEPARTMENTS, INTERNATIONAL, LANGUAGES, NICKNAMES, OFFICES,
    PERSONAL_DOMAINS, TSHIRT_SIZES, US, US_OFFICE_WEIGHTS, fold_ascii,
};

/// What the generator carries from member to member.
pub(super) struct Builder<'a> {
    pub(super) rng: &'a mut ChaCha8Rng,
    pub(super) c: &'a mut Company,
    pub(super) strs: &'a Interned,
    pub(super) nodes: &'a [Node],
    pub(super) pop: &'a Population,
    pub(super) today_d: i32,
    pub(super) migrated: i32,
    email_counts: HashMap<String, u32>,
    local: String,
    scratch: String,
}

/// Where a member lives and works.
struct Place {
    country: &'static Country,
    location: Str,
    office: Option<u16>,
    home_city: &'static City,
}

/// A member's names and sex.
struct Naming {
    culture: &'static Culture,
    female: bool,
    given: &'static str,
    given_str: Str,
    family: &'static str,
    family_str: Str,
    /// The name they go by (preferred or given).
    first: &'static str,
    preferred: Str,
    full: Str,
    additional: Span<Str>,
    sex: Str,
}

/// A member's employment dates.
struct Dates {
    added: i32,
    created_at: Timestamp,
    updated_at: Timestamp,
    periods: Vec<Period>,
    start: i32,
    end: Option<i32>,
    active: bool,
    intern: bool,
    dob: jiff::civil::Date,
}

impl<'a> Builder<'a> {
    pub(super) fn new(
        rng: &'a mut ChaCha8Rng,
        c: &'a mut Company,
        strs: &'a Interned,
        nodes: &'a [Node],
        pop: &'a Population,
        today_d: i32,
        migrated: i32,
    ) -> Self {
        Builder {
            rng,
            c,
            strs,
            nodes,
            pop,
            today_d,
            migrated,
            email_counts: HashMap::new(),
            local: String::with_capacity(32),
            scratch: String::with_capacity(24),
        }
    }

    /// Member `i` of the tree.
    pub(super) fn member(&mut self, i: usize) -> Member {
        let node = &self.nodes[i];
        let kind = self.pop.kinds[i];
        let dept = &DEPARTMENTS[usize::from(node.dept)];
        let place = self.place(i, kind);
        let naming = self.naming(place.country);
        let dates = self.dates(i, kind);
        let title = match (i, node.level, node.reports > 0) {
            (0, _, _) => DEPARTMENTS[0].head,
            (_, 1, _) => dept.head,
            (_, 2, true) => dept.director,
            (_, _, true) => dept.manager,
            _ if dates.intern => dept.intern,
            _ => *pick(self.rng, dept.ics),
        };
        let emails = self.emails(i, &naming);
        let phones = self.phones(place.country);
        let addresses = self.address(&place);
        let employment = self.employment(kind, dates.intern, node.reports > 0, place.country);
        let custom = self.custom(&naming, &dates, place.office.is_some());
        Member {
            id: self.pop.ids[i],
            work_id: Str::EMPTY,
            given_name: naming.given_str,
            family_name: naming.family_str,
            preferred_name: naming.preferred,
            full_preferred_name: naming.full,
            additional_names: naming.additional,
            kind: self.strs.kinds[kind as usize],
            location_type: place.location,
            sex: naming.sex,
            emails,
            phones,
            addresses,
            employment,
            history: self.c.periods.push_all(dates.periods),
            custom,
            date_added: Some(date(dates.added)),
            dob: Some(dates.dob),
            start_date: Some(date(dates.start)),
            termination_date: dates.end.map(date),
            department: Some(node.dept),
            office: place.office,
            job_title: self.strs.titles[title],
            manager: node
                .manager
                .map_or(Str::EMPTY, |m| self.pop.ids[m as usize]),
            created_at: dates.created_at,
            updated_at: dates.updated_at,
            active: dates.active,
            hidden: false,
        }
    }

    /// Where they live and work.
    fn place(&mut self, i: usize, kind: Kind) -> Place {
        let rng = &mut *self.rng;
        let strs = self.strs;
        let country: &'static Country = match kind {
            Kind::Employee => &US,
            Kind::Contractor if rng.random_bool(0.7) => &US,
            _ => pick_weighted(rng, INTERNATIONAL, |c| c.weight),
        };
        let us_offices: [usize; 4] = [0, 1, 2, 3];
        let (location, office): (Str, Option<u16>) = match kind {
            Kind::Employee if i == 0 || rng.random_bool(0.75) => {
                let o = *pick_weighted(rng, &us_offices, |&o| US_OFFICE_WEIGHTS[o]);
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
        let home_city: &'static City = match office_id {
            Some(oid) => {
                let near = country.cities.iter().filter(|c| c.office == Some(oid));
                match near.clone().count() {
                    0 => pick(rng, country.cities),
                    k => near
                        .clone()
                        .nth(rng.random_range(0..k))
                        .unwrap_or(&country.cities[0]),
                }
            }
            None => pick(rng, country.cities),
        };
        Place {
            country,
            location,
            office,
            home_city,
        }
    }

    /// Name and sex.
    fn naming(&mut self, country: &Country) -> Naming {
        let rng = &mut *self.rng;
        let strs = self.strs;
        let culture_ix = if country.code != "US" && rng.random_bool(0.75) {
            let local_cultures: Vec<usize> = (0..CULTURES.len())
                .filter(|&k| CULTURES[k].home.contains(&country.code))
                .collect();
            if local_cultures.is_empty() {
                weighted_culture(rng)
            } else {
                *pick(rng, &local_cultures)
            }
        } else {
            weighted_culture(rng)
        };
        let culture: &'static Culture = &CULTURES[culture_ix];
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
        let preferred: Option<(&'static str, Str)> = match nickname {
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
        let full = self.c.text.push_fmt(format_args!("{first} {family}"));
        let additional = if rng.random_bool(0.06) {
            let k = rng.random_range(0..given_list.len());
            if k != gi {
                self.c.names.push_one(given_strs[k])
            } else {
                Default::default()
            }
        } else {
            Default::default()
        };
        Naming {
            culture,
            female,
            given,
            given_str: given_strs[gi],
            family,
            family_str: strs.family[culture_ix][fi],
            first,
            preferred: preferred.map_or(Str::EMPTY, |p| p.1),
            full,
            additional,
            sex,
        }
    }

    /// Dates: joining Justworks, employment periods, last update, age.
    fn dates(&mut self, i: usize, kind: Kind) -> Dates {
        let rng = &mut *self.rng;
        let (today_d, migrated) = (self.today_d, self.migrated);
        let orig_start = self.pop.starts[i];
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
        if self.pop.terminated[i] {
            let lo = orig_start + 60;
            let hi = (today_d - 1).max(lo);
            let e = rng.random_range(lo..=hi);
            end = Some(e);
            updated_floor = updated_floor.max(at(e, 18 * 3600));
        } else if self.pop.rehired[i] {
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
        } else if self.pop.future_end[i] {
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
        let intern =
            kind != Kind::Contractor && self.nodes[i].reports == 0 && rng.random_bool(0.03);
        let age = if intern {
            rng.random_range(19..=23)
        } else {
            rng.random_range(22..=52)
        };
        let dob = date(orig_start - age * 365 - age / 4 - rng.random_range(0..365));
        Dates {
            added,
            created_at,
            updated_at,
            periods,
            start,
            end,
            active,
            intern,
            dob,
        }
    }

    /// A work email (unless this member has none) and usually a personal one.
    fn emails(&mut self, i: usize, naming: &Naming) -> Span<Email> {
        let (first, given, family) = (naming.first, naming.given, naming.family);
        let mut emails: [Email; 2] = [Email {
            address: Str::EMPTY,
            kind: Str::EMPTY,
        }; 2];
        let mut n_emails = 0;
        let no_work_email = self.pop.no_work_email[i];
        if !no_work_email {
            let local = &mut self.local;
            local.clear();
            fold_ascii(first, local);
            local.push('.');
            fold_ascii(family, local);
            let count = self.email_counts.entry(local.clone()).or_insert(0);
            *count += 1;
            let c = &mut *self.c;
            let address = if *count == 1 {
                c.text.push_fmt(format_args!("{local}@{}", c.domain))
            } else {
                c.text.push_fmt(format_args!("{local}{count}@{}", c.domain))
            };
            emails[n_emails] = Email {
                address,
                kind: self.strs.email_kind[0],
            };
            n_emails += 1;
        }
        if no_work_email || self.rng.random_bool(0.9) {
            let rng = &mut *self.rng;
            let c = &mut *self.c;
            let start_ix = c.text.start();
            let pattern = rng.random_range(0..3);
            let mut g = String::new();
            fold_ascii(given, &mut g);
            let mut f = String::new();
            fold_ascii(family, &mut f);
            let digits = rng.random_range(10..100);
            let domain = *pick(rng, PERSONAL_DOMAINS);
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
                kind: self.strs.email_kind[1],
            };
            n_emails += 1;
        }
        self.c.emails.push_all(emails[..n_emails].iter().copied())
    }

    /// Usually a mobile, sometimes a home phone too.
    fn phones(&mut self, country: &Country) -> Span<Phone> {
        let rng = &mut *self.rng;
        let c = &mut *self.c;
        let scratch = &mut self.scratch;
        if !rng.random_bool(0.95) {
            return Default::default();
        }
        scratch.clear();
        phone(rng, country, scratch);
        let mobile = Phone {
            number: c.text.push(scratch),
            kind: self.strs.phone_kind[0],
        };
        if rng.random_bool(0.15) {
            scratch.clear();
            phone(rng, country, scratch);
            let home = Phone {
                number: c.text.push(scratch),
                kind: self.strs.phone_kind[1],
            };
            c.phones.push_all([mobile, home])
        } else {
            c.phones.push_one(mobile)
        }
    }

    /// The home address, for almost everyone.
    fn address(&mut self, place: &Place) -> Span<Address> {
        let rng = &mut *self.rng;
        let c = &mut *self.c;
        let strs = self.strs;
        let (country, home_city) = (place.country, place.home_city);
        if !rng.random_bool(0.98) {
            return Default::default();
        }
        let street = *pick(rng, country.streets);
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
        self.scratch.clear();
        expand(rng, home_city.postal, &mut self.scratch);
        let postal_code = c.text.push(&self.scratch);
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
    }

    /// Employment type, keyed by the country of employment; none for contractors.
    fn employment(
        &mut self,
        kind: Kind,
        intern: bool,
        manages: bool,
        country: &Country,
    ) -> Span<Employment> {
        if kind == Kind::Contractor {
            return Default::default();
        }
        let strs = self.strs;
        let et = if intern {
            strs.employment[2]
        } else if manages {
            strs.employment[0]
        } else {
            let r: f64 = self.rng.random();
            if r < 0.90 {
                strs.employment[0]
            } else if r < 0.96 {
                strs.employment[1]
            } else {
                strs.employment[3]
            }
        };
        self.c.employment.push_one(Employment {
            country: strs.countries[country.code],
            employment_type: et,
        })
    }

    /// Custom field values: T-shirt size, pronouns, languages, last review, desk.
    fn custom(&mut self, naming: &Naming, dates: &Dates, in_office: bool) -> Span<CustomValue> {
        let rng = &mut *self.rng;
        let c = &mut *self.c;
        let strs = self.strs;
        let mut custom: Vec<CustomValue> = Vec::with_capacity(5);
        if rng.random_bool(0.75) {
            let size = *pick(rng, TSHIRT_SIZES);
            custom.push(CustomValue {
                field: 0,
                value: strs.options[size],
            });
        }
        if rng.random_bool(0.35) {
            let p = if naming.sex == strs.sex[2] || rng.random_bool(0.1) {
                *pick(rng, &strs.pronouns[2..])
            } else if naming.female {
                strs.pronouns[0]
            } else {
                strs.pronouns[1]
            };
            custom.push(CustomValue { field: 1, value: p });
        }
        if rng.random_bool(0.55) {
            let native = naming.culture.language;
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
                let extra = *pick(rng, LANGUAGES);
                if extra != native && extra != "English" {
                    custom.push(CustomValue {
                        field: 2,
                        value: strs.options[extra],
                    });
                }
            }
        }
        let (today_d, start) = (self.today_d, dates.start);
        if dates.active && start <= today_d - 180 && rng.random_bool(0.65) {
            let lo = (today_d - 365).max(start + 90);
            let review = date(rng.random_range(lo..today_d));
            let value = c.text.push_fmt(format_args!("{review}"));
            custom.push(CustomValue { field: 3, value });
        }
        if in_office && rng.random_bool(0.2) {
            let desk = rng.random_range(100..900);
            let value = c.text.push_fmt(format_args!("{desk}"));
            custom.push(CustomValue { field: 4, value });
        }
        c.custom.push_all(custom)
    }
}
